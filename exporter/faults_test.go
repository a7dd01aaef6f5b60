package exporter_test

import (
	"context"

	"runtime"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// settledGoroutines waits until the goroutine count drops to at most want
// (connections and timers wind down asynchronously) and returns the count.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// TestFaults: a server that is paused, slowed, full or killed mid-scrape
// yields up 0 within the deadline, the next scrape recovers, and no
// goroutine is left behind. Not parallel: it counts goroutines.
func TestFaults(t *testing.T) {
	srv := redistest.Start(t, "enable-debug-command yes\nmaxclients 3")
	admin := srv.Client("", "")
	ctx := context.Background()
	tg := newTarget(t, targetOpts{addr: srv.Addr()})
	if got := scrape(t, tg, 5*time.Second); got["redis_security_up"] != 1 {
		t.Fatal("not up at the start")
	}
	base := runtime.NumGoroutine()
	deadline := 800 * time.Millisecond

	withinDeadline := func(name string) map[string]float64 {
		t.Helper()
		start := time.Now()
		got := scrape(t, tg, deadline)
		if elapsed := time.Since(start); elapsed > deadline+time.Second {
			t.Errorf("%s: scrape took %v with a %v deadline", name, elapsed, deadline)
		}
		return got
	}
	recovers := func(name string) {
		t.Helper()
		waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
	}

	// Paused: every command waits.
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	expect(t, withinDeadline("paused"), map[string]float64{"redis_security_up": 0})
	time.Sleep(1500 * time.Millisecond) // let the pause end
	recovers("after pause")

	// Slowed: DEBUG SLEEP blocks the event loop.
	go admin.Do(context.Background(), "DEBUG", "SLEEP", "2")
	time.Sleep(100 * time.Millisecond)
	expect(t, withinDeadline("DEBUG SLEEP"), map[string]float64{"redis_security_up": 0})
	recovers("after DEBUG SLEEP")

	// Full: maxclients reached, the exporter's (new) connection is refused.
	if err := admin.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal").Err(); err != nil {
		t.Fatal(err)
	}
	var holders []func()
	for i := 0; i < 3; i++ {
		c := srv.Client("", "")
		if err := c.Ping(ctx).Err(); err != nil {
			break // full already
		}
		holders = append(holders, func() { c.Close() })
	}
	got := withinDeadline("maxclients")
	expect(t, got, map[string]float64{"redis_security_up": 0})
	for _, release := range holders {
		release()
	}
	recovers("after maxclients")
	if got := scrape(t, tg, 3*time.Second); got["redis_security_rejected_connections_total"] < 1 {
		t.Errorf("rejected_connections_total = %v, want the refused connection counted", got["redis_security_rejected_connections_total"])
	}

	// Killed mid-scrape: the server dies while the scrape waits on it.
	pauser := srv.Client("", "")
	if err := pauser.Do(ctx, "CLIENT", "PAUSE", "5000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan map[string]float64)
	go func() { done <- scrape(t, tg, 3*time.Second) }()
	time.Sleep(200 * time.Millisecond)
	srv.Stop()
	select {
	case got := <-done:
		expect(t, got, map[string]float64{"redis_security_up": 0})
	case <-time.After(5 * time.Second):
		t.Fatal("the scrape did not end after the server died")
	}
	srv = redistest.StartWith(t, redistest.Options{Port: srv.Port, Config: "enable-debug-command yes\nmaxclients 3"})
	recovers("after restart")

	// No goroutine leaked by any of it.
	if n := settledGoroutines(base + 2); n > base+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d at the start, %d at the end\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}
