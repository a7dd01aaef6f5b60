package exporter

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
)

// repliesWithTLSPort are the replies of a scrape whose CONFIG GET tls-port
// returned port, on a server with run_id runID.
func repliesWithTLSPort(t *testing.T, port int, runID string) *collector.Replies {
	t.Helper()
	p := collector.NewPlan(collector.Facts{})
	p.Config("tls-port")
	calls := p.Calls()
	results := make([]collector.Result, len(calls))
	for i, c := range calls {
		switch c.Name {
		case "info":
			results[i] = collector.Result{Value: "redis_version:7.0.15\r\nrun_id:" + runID + "\r\n"}
		default:
			results[i] = collector.Result{Value: []any{"tls-port", strconv.Itoa(port)}}
		}
	}
	r, err := collector.NewReplies(p, calls, results)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestProbeBoundedAndCached: a tls-port that accepts connections and never
// answers costs the scrape at most half of its remaining time, and the
// failure is not retried before the interval (nor retried at all when too
// little time is left).
func TestProbeBoundedAndCached(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	addr, _ := ParseAddress("127.0.0.1:1")
	tg, err := NewTarget(Options{Address: addr, ProbeCertificate: true, ProbeInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if leaf := tg.probeCertificate(ctx, repliesWithTLSPort(t, port, "r1")); leaf != nil {
		t.Fatal("a certificate from a silent port")
	}
	if elapsed := time.Since(start); elapsed > 1500*time.Millisecond {
		t.Errorf("the probe took %v of a 2s scrape", elapsed)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	// Cached failure: no new attempt within the interval.
	tg.probeCertificate(ctx, repliesWithTLSPort(t, port, "r1"))
	// Another run: probed again, unless too little time is left.
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	tg.probeCertificate(short, repliesWithTLSPort(t, port, "r2"))
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections, want still 1", n)
	}
	// tls-port 0 or garbage: nothing.
	for _, p := range []int{0, -1, 70000} {
		if leaf := tg.probeCertificate(ctx, repliesWithTLSPort(t, p, "r1")); leaf != nil {
			t.Errorf("tls-port %d: a certificate", p)
		}
	}
}
