package exporter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// TestCommandLogLive: on Valkey 8.1+ (make compat) a large request is
// counted from COMMANDLOG and survives COMMANDLOG RESET, with the README's
// user and no trace in ACL LOG; the request's bytes are in no series. On
// every other server nothing of COMMANDLOG is sent or reported.
func TestCommandLogLive(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	admin := func(args ...any) any { return srv.Do("default", "admin-pw", args...) }

	if !redistest.HasCommandLog(t, redistest.Binary(t)) {
		got := scrape(t, tg, 5*time.Second)
		for k := range got {
			if strings.Contains(k, "commandlog") && !strings.HasPrefix(k, "redis_security_scrape_collector_") {
				t.Errorf("%s reported by a server without COMMANDLOG", k)
			}
		}
		if stats := admin("INFO", "commandstats").(string); strings.Contains(stats, "cmdstat_commandlog") {
			t.Errorf("COMMANDLOG sent to a server without it:\n%s", stats)
		}
		return
	}

	scrape(t, tg, 5*time.Second) // the first scrape learns the server's version
	// Above the exporter's own largest request (CONFIG GET, about 800
	// bytes on Valkey 8.1), which a lower threshold would log every scrape.
	admin("CONFIG", "SET", "commandlog-request-larger-than", "1000")
	const canary = "Canary-Payload-0f3c9e"
	admin("SET", "app:k", canary+strings.Repeat("x", 1200))
	before := time.Now().Unix()
	want := map[string]float64{
		`redis_security_scrape_collector_success{collector="commandlog"}`:         1,
		`redis_security_scrape_command_denied{command="commandlog|get"}`:          0,
		`redis_security_scrape_command_denied{command="commandlog|len"}`:          0,
		`redis_security_commandlog_events_total{type="large-request"}`:            1,
		`redis_security_commandlog_entries{type="large-request"}`:                 1,
		`redis_security_commandlog_large_threshold_bytes{type="large-request"}`:   1000,
		`redis_security_commandlog_enabled{type="large-request"}`:                 1,
		`redis_security_commandlog_max_length{type="large-request"}`:              128,
		`redis_security_check_failed{check="commandlog_disabled",severity="low"}`: 0,
	}
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, want)
	if ts := got[`redis_security_commandlog_last_event_timestamp_seconds{type="large-request"}`]; ts < float64(before-60) || ts > float64(time.Now().Unix()) {
		t.Errorf("last large-request at %v, want about %d", ts, before)
	}

	// A reset empties the log but not the count; a threshold of -1 turns
	// the type off, which the finding reports.
	admin("COMMANDLOG", "RESET", "large-request")
	admin("CONFIG", "SET", "commandlog-request-larger-than", "-1")
	want[`redis_security_commandlog_entries{type="large-request"}`] = 0
	want[`redis_security_commandlog_enabled{type="large-request"}`] = 0
	want[`redis_security_commandlog_large_threshold_bytes{type="large-request"}`] = absent
	want[`redis_security_check_failed{check="commandlog_disabled",severity="low"}`] = 1
	got = scrape(t, tg, 5*time.Second)
	expect(t, got, want)
	for k := range got {
		if strings.Contains(k, canary) {
			t.Errorf("a request's bytes in a series: %s", k)
		}
	}
	if log := admin("ACL", "LOG").([]any); len(log) != 0 {
		t.Errorf("the exporter caused %d ACL LOG entries", len(log))
	}
}
