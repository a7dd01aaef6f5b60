package exporter_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// failAuth sends n AUTH attempts with a wrong password, from source (a
// loopback address), each on its own connection like a brute force would.
func failAuth(t *testing.T, srv *redistest.Server, source, user string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c := redis.NewClient(&redis.Options{
			Addr: srv.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1,
			Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
				return d.DialContext(ctx, network, addr)
			},
		})
		args := []any{"AUTH", user, "wrong-password"}
		if err := c.Do(context.Background(), args...).Err(); err == nil {
			t.Fatalf("AUTH %s with a wrong password succeeded", user)
		}
		c.Close()
	}
}

// TestACLLogEvents is the brute force the headline alert is about: failed
// AUTH from two sources, one with an existing user name, plus key and
// command denials, across scrapes, ACL LOG RESET and a restart.
func TestACLLogEvents(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+
		"user alice on >alice-pw ~app:* resetchannels -@all +get\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	base := scrape(t, tg, 5*time.Second)
	if base["redis_security_auth_failures_total"] != 0 {
		t.Fatalf("auth failures before the test: %v", base["redis_security_auth_failures_total"])
	}

	failAuth(t, srv, "127.0.0.1", "nobody", 10)
	scrape(t, tg, 5*time.Second)
	failAuth(t, srv, "127.0.0.1", "nobody", 10)
	failAuth(t, srv, "127.0.0.2", "alice", 5)
	alice := srv.Client("alice", "alice-pw")
	ctx := context.Background()
	if err := alice.Get(ctx, "secret:1").Err(); err == nil {
		t.Fatal("alice read a key outside ~app:*")
	}
	if err := alice.ConfigGet(ctx, "dir").Err(); err == nil {
		t.Fatal("alice ran CONFIG GET")
	}

	want := map[string]float64{
		"redis_security_auth_failures_total":                                     25,
		`redis_security_acl_log_events_total{reason="auth",username="unknown"}`:  20,
		`redis_security_acl_log_events_total{reason="auth",username="alice"}`:    5,
		`redis_security_acl_log_events_total{reason="key",username="alice"}`:     1,
		`redis_security_acl_log_events_total{reason="command",username="alice"}`: 1,
		`redis_security_acl_log_events_total{reason="auth",username="nobody"}`:   absent,
		`redis_security_acl_log_source_events{reason="auth",source="127.0.0.1"}`: 20,
		`redis_security_acl_log_source_events{reason="auth",source="127.0.0.2"}`: 5,
		`redis_security_acl_log_source_events{reason="key",source="127.0.0.1"}`:  1,
		`redis_security_acl_log_entries{reason="auth"}`:                          2,
		`redis_security_acl_log_entries{reason="command"}`:                       1,
		`redis_security_acl_log_entries{reason="key"}`:                           1,
		`redis_security_acl_log_entries{reason="channel"}`:                       0,
		`redis_security_scrape_collector_success{collector="acllog"}`:            1,
		`redis_security_scrape_command_denied{command="acl|log"}`:                0,
	}
	// Entry ids (7.2+, every Valkey) let the exporter count lost entries;
	// before them the metric is omitted.
	if srv.Identity("default", "admin-pw").CompatVersion.AtLeast(7, 2) {
		want["redis_security_acl_log_lost_events_total"] = 0
	} else {
		want["redis_security_acl_log_lost_events_total"] = absent
	}
	for i := 0; i < 3; i++ { // repeated scrapes add nothing
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, want)
		if ts := got[`redis_security_acl_log_last_event_timestamp_seconds{reason="auth"}`]; ts < float64(time.Now().Add(-time.Minute).Unix()) || ts > float64(time.Now().Add(time.Second).Unix()) {
			t.Errorf("last auth event at %v, want about now", ts)
		}
	}

	// ACL LOG RESET empties the log: the gauges follow it, the counters
	// must not move backwards.
	srv.Do("default", "admin-pw", "ACL", "LOG", "RESET")
	counters := map[string]float64{
		"redis_security_auth_failures_total":                                     25,
		`redis_security_acl_log_events_total{reason="auth",username="unknown"}`:  20,
		`redis_security_acl_log_events_total{reason="auth",username="alice"}`:    5,
		`redis_security_acl_log_events_total{reason="key",username="alice"}`:     1,
		`redis_security_acl_log_events_total{reason="command",username="alice"}`: 1,
	}
	expect(t, scrape(t, tg, 5*time.Second), merge(counters, map[string]float64{
		`redis_security_acl_log_entries{reason="auth"}`:                          0,
		`redis_security_acl_log_entries{reason="key"}`:                           0,
		`redis_security_acl_log_source_events{reason="auth",source="127.0.0.1"}`: absent,
		`redis_security_acl_log_last_event_timestamp_seconds{reason="auth"}`:     absent,
	}))
	failAuth(t, srv, "127.0.0.1", "alice", 2)
	counters[`redis_security_acl_log_events_total{reason="auth",username="alice"}`] = 7
	counters["redis_security_auth_failures_total"] = 27
	expect(t, scrape(t, tg, 5*time.Second), merge(counters, map[string]float64{
		`redis_security_acl_log_entries{reason="auth"}`:                          1,
		`redis_security_acl_log_source_events{reason="auth",source="127.0.0.1"}`: 2,
		`redis_security_acl_log_source_events{reason="auth",source="127.0.0.2"}`: absent,
	}))

	// A restart is a new log: its entries are new events, the exporter's
	// counters carry on (the server's errorstats start again from 0).
	srv = srv.Restart()
	waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
	failAuth(t, srv, "127.0.0.1", "nobody", 3)
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		`redis_security_acl_log_events_total{reason="auth",username="unknown"}`: 23,
		`redis_security_acl_log_events_total{reason="auth",username="alice"}`:   7,
		"redis_security_auth_failures_total":                                    3,
	})
}

func merge(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
