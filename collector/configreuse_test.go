package collector_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
)

// TestConfigReuse: CONFIG GET rides on ACL LIST reuse. A steady scrape
// leaves it out and serves the remembered values; a counted CONFIG SET (or
// a restart) leaves the main round's values unusable (an error, never an
// absent parameter) until the follow-up round reads them again.
func TestConfigReuse(t *testing.T) {
	st := collector.NewState()
	st.SetACLListMaxAge(time.Hour)
	users := make([]any, 70) // reuse pays from 64 users
	for i := range users {
		users[i] = fmt.Sprintf("user u%d on #%064x ~* +@all", i, i)
	}
	info := func(runID string, configSets int) string {
		return fmt.Sprintf("# Server\r\nredis_version:7.0.15\r\nrun_id:%s\r\n# Commandstats\r\ncmdstat_config|set:calls=%d,usec=1\r\n", runID, configSets)
	}
	server := struct {
		runID      string
		configSets int
		timeout    string
	}{"run-1", 0, "0"}
	var sent []string
	answer := func(calls []collector.Call) []collector.Result {
		out := make([]collector.Result, len(calls))
		for i, c := range calls {
			sent = append(sent, c.Name)
			switch c.Name {
			case "info":
				out[i] = collector.Result{Value: info(server.runID, server.configSets)}
			case "acl|list":
				out[i] = collector.Result{Value: users}
			case "config|get":
				pairs := []any{}
				for _, a := range c.Args[2:] {
					switch a {
					case "timeout":
						pairs = append(pairs, "timeout", server.timeout)
					case "maxmemory":
						pairs = append(pairs, "maxmemory", "0")
					} // tls-port: absent, as on a build without TLS
				}
				out[i] = collector.Result{Value: pairs}
			default:
				t.Fatalf("unexpected call %v", c.Args)
			}
		}
		return out
	}
	facts := collector.Facts{}
	var mainSent []string // the calls of the last scrape's main round
	// mainRound sends the plan of the acl and config collectors' requests
	// and returns its replies, before any follow-up round.
	mainRound := func() *collector.Replies {
		t.Helper()
		sent = nil
		p := collector.NewPlan(facts)
		p.UseState(st)
		p.Command("ACL", "LIST")
		p.Config("timeout", "maxmemory", "tls-port")
		calls := p.Calls()
		r, err := collector.NewReplies(p, calls, answer(calls))
		if err != nil {
			t.Fatal(err)
		}
		mainSent = slices.Clone(sent)
		return r
	}
	scrape := func() (main *collector.Replies, merged *collector.Replies) {
		t.Helper()
		r := mainRound()
		facts = r.Facts()
		if fp := r.NewFollowUpPlan(); !fp.Empty() {
			main = r
			fc := fp.FollowUpCalls()
			o, err := collector.NewReplies(fp, fc, answer(fc))
			if err != nil {
				t.Fatal(err)
			}
			r.Merge(o)
		}
		return main, r
	}
	timeout := func(r *collector.Replies) string {
		t.Helper()
		v, ok, err := r.Config("timeout")
		if err != nil || !ok {
			t.Fatalf("timeout: %q %v %v", v, ok, err)
		}
		if _, ok, err := r.Config("tls-port"); ok || err != nil {
			t.Errorf("tls-port, absent on the server: ok %v, err %v", ok, err)
		}
		return v
	}

	for i := 0; i < 3; i++ { // facts, then the first reads with a stamp
		scrape()
	}
	for i := 0; i < 2; i++ {
		main, r := scrape()
		if main != nil || slices.Contains(sent, "config|get") || slices.Contains(sent, "acl|list") {
			t.Fatalf("steady scrape %d sent %v", i, sent)
		}
		if v := timeout(r); v != "0" {
			t.Errorf("reused timeout %q, want 0", v)
		}
	}

	server.configSets, server.timeout = 1, "300" // CONFIG SET timeout 300
	main, r := scrape()
	if main == nil {
		t.Fatal("no follow-up round after a counted CONFIG SET")
	}
	// The main round (INFO first, ACL LIST and CONFIG GET reused) has no
	// CONFIG GET; the follow-up has.
	if v := timeout(r); v != "300" || slices.Index(sent, "config|get") < slices.Index(sent, "info") || slices.Contains(mainSent, "config|get") {
		t.Errorf("after CONFIG SET: timeout %q, calls %v; want 300 read in the follow-up", v, sent)
	}
	if _, _, err := main.Config("timeout"); err != nil {
		t.Errorf("merged replies still report the outdated values: %v", err)
	}
	if _, r = scrape(); slices.Contains(sent, "config|get") || timeout(r) != "300" {
		t.Errorf("the scrape after the change: calls %v, timeout %q", sent, timeout(r))
	}

	// The follow-up that should read the new values does not run: the
	// main round's replies say so rather than report nothing.
	server.configSets = 2
	stale := mainRound()
	if _, ok, err := stale.Config("tls-port"); ok || err == nil {
		t.Errorf("an outdated reply without its follow-up: ok %v, err %v; want an error", ok, err)
	}
	var se collector.ServerError
	if _, _, err := stale.Config("timeout"); errors.As(err, &se) {
		t.Errorf("the stale error reads as a server's reply: %v", err)
	}

	// A restart with the same counts (the config file changed) reads
	// CONFIG GET again in the same scrape.
	server.configSets = 1
	scrape() // settles on the counts of the last read
	server.runID, server.timeout = "run-2", "60"
	if main, r = scrape(); main == nil || timeout(r) != "60" {
		t.Errorf("after a restart: follow-up %v, calls %v", main != nil, sent)
	}

	// A server that answers CONFIG GET with nothing (a proxy hiding the
	// parameters): after a counted change the follow-up's empty reply is
	// taken, not waited for.
	hidden := answer
	answer = func(calls []collector.Call) []collector.Result {
		out := hidden(calls)
		for i, c := range calls {
			if c.Name == "config|get" {
				out[i] = collector.Result{Value: []any{}}
			}
		}
		return out
	}
	for i := 0; i < 2; i++ {
		scrape()
	}
	server.configSets = 3
	if _, r = scrape(); true {
		if _, ok, err := r.Config("timeout"); ok || err != nil {
			t.Errorf("an empty follow-up reply: ok %v, err %v; want the parameter absent", ok, err)
		}
	}
}
