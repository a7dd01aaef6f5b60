package collector_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// valkeyFacts describes a Valkey server of version v and run id.
func valkeyFacts(t *testing.T, v, runID string) collector.Facts {
	t.Helper()
	srv, err := redisinfo.Parse(fmt.Sprintf("# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:%s\r\nrun_id:%s\r\n", v, runID)).Server()
	if err != nil {
		t.Fatal(err)
	}
	return collector.Facts{Known: true, Server: srv}
}

// commandLogServer answers the commandlog collector's calls: newest[type]
// is the newest entry's id (absent: an empty log), length[type] LEN,
// config the commandlog-* parameters, deny the calls refused with NOPERM.
type commandLogServer struct {
	newest map[string]int64
	length map[string]int64
	config map[string]string
	deny   map[string]bool
	// malformed answers GET with an entry whose id is a client's string.
	malformed bool
}

func (s commandLogServer) answer(c collector.Call) collector.Result {
	if s.deny[c.Name] {
		return collector.Result{Err: collector.ServerError("NOPERM User exporter has no permissions to run the '" + c.Name + "' command")}
	}
	switch c.Name {
	case "commandlog|len":
		return collector.Result{Value: s.length[c.Args[2].(string)]}
	case "commandlog|get":
		if s.malformed {
			return collector.Result{Value: []any{[]any{"attacker-name", int64(1), int64(2), []any{"SET", "203.0.113.9"}, "203.0.113.9:4000", "attacker-name"}}}
		}
		id, ok := s.newest[c.Args[3].(string)]
		if !ok {
			return collector.Result{Value: []any{}}
		}
		// A client's arguments, address and name: never in a metric.
		return collector.Result{Value: []any{[]any{id, int64(1796596222), int64(2048), []any{"AUTH", "(redacted)"}, "203.0.113.9:4000", "attacker-name"}}}
	case "config|get":
		pairs := []any{}
		for _, a := range c.Args[2:] {
			if v, ok := s.config[a.(string)]; ok {
				pairs = append(pairs, a, v)
			}
		}
		return collector.Result{Value: pairs}
	}
	return collector.Result{Err: collector.ServerError("ERR unknown command '" + c.Name + "'")}
}

// defaultCommandLogConfig is Valkey 8.1's default.
var defaultCommandLogConfig = map[string]string{
	"commandlog-execution-slower-than": "10000", "commandlog-slow-execution-max-len": "128",
	"commandlog-request-larger-than": "1048576", "commandlog-large-request-max-len": "128",
	"commandlog-reply-larger-than": "1048576", "commandlog-large-reply-max-len": "128",
}

func withConfig(kv ...string) map[string]string {
	m := maps.Clone(defaultCommandLogConfig)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestCommandLog(t *testing.T) {
	defaults := map[string]float64{
		`commandlog_entries{type="slow"}`:                        0,
		`commandlog_entries{type="large-request"}`:               0,
		`commandlog_entries{type="large-reply"}`:                 0,
		`commandlog_max_length{type="slow"}`:                     128,
		`commandlog_max_length{type="large-request"}`:            128,
		`commandlog_max_length{type="large-reply"}`:              128,
		`commandlog_enabled{type="slow"}`:                        1,
		`commandlog_enabled{type="large-request"}`:               1,
		`commandlog_enabled{type="large-reply"}`:                 1,
		`commandlog_slow_threshold_seconds`:                      0.01,
		`commandlog_large_threshold_bytes{type="large-request"}`: 1048576,
		`commandlog_large_threshold_bytes{type="large-reply"}`:   1048576,
	}
	with := func(kv map[string]float64, drop ...string) map[string]float64 {
		m := maps.Clone(defaults)
		for _, k := range drop {
			delete(m, k)
		}
		maps.Copy(m, kv)
		return m
	}
	tests := []struct {
		name    string
		version string
		server  commandLogServer
		want    map[string]float64
		wantErr string
	}{
		{name: "defaults, empty logs: no event count to report", version: "8.1.1",
			server: commandLogServer{config: defaultCommandLogConfig}, want: defaults},
		{name: "entries: events are the newest id + 1", version: "9.1.2",
			server: commandLogServer{config: defaultCommandLogConfig,
				newest: map[string]int64{"slow": 41, "large-request": 0},
				length: map[string]int64{"slow": 3, "large-request": 1}},
			want: with(map[string]float64{
				`commandlog_entries{type="slow"}`:                               3,
				`commandlog_entries{type="large-request"}`:                      1,
				`commandlog_events_total{type="slow"}`:                          42,
				`commandlog_events_total{type="large-request"}`:                 1,
				`commandlog_last_event_timestamp_seconds{type="slow"}`:          1796596222,
				`commandlog_last_event_timestamp_seconds{type="large-request"}`: 1796596222,
			})},
		{name: "disabled: negative thresholds and a zero max length", version: "8.1.1",
			server: commandLogServer{config: withConfig("commandlog-execution-slower-than", "-1",
				"commandlog-request-larger-than", "-1", "commandlog-large-reply-max-len", "0")},
			want: with(map[string]float64{
				`commandlog_enabled{type="slow"}`:           0,
				`commandlog_enabled{type="large-request"}`:  0,
				`commandlog_enabled{type="large-reply"}`:    0,
				`commandlog_max_length{type="large-reply"}`: 0,
			}, `commandlog_slow_threshold_seconds`, `commandlog_large_threshold_bytes{type="large-request"}`)},
		{name: "every command logged", version: "8.1.1",
			server: commandLogServer{config: withConfig("commandlog-execution-slower-than", "0")},
			want:   with(map[string]float64{`commandlog_slow_threshold_seconds`: 0})},
		{name: "GET denied: the rest is reported", version: "8.1.1",
			server: commandLogServer{config: defaultCommandLogConfig, newest: map[string]int64{"slow": 5},
				deny: map[string]bool{"commandlog|get": true}},
			want: defaults, wantErr: "NOPERM"},
		{name: "CONFIG denied: the logs are reported", version: "8.1.1",
			server: commandLogServer{newest: map[string]int64{"large-reply": 9}, length: map[string]int64{"large-reply": 1},
				deny: map[string]bool{"config|get": true}},
			want: map[string]float64{
				`commandlog_entries{type="slow"}`:                             0,
				`commandlog_entries{type="large-request"}`:                    0,
				`commandlog_entries{type="large-reply"}`:                      1,
				`commandlog_events_total{type="large-reply"}`:                 10,
				`commandlog_last_event_timestamp_seconds{type="large-reply"}`: 1796596222,
			}, wantErr: "NOPERM"},
		{name: "malformed entry: no client data in the error", version: "8.1.1",
			server: commandLogServer{config: defaultCommandLogConfig, malformed: true},
			want:   defaults, wantErr: "field 0 is string"},
		{name: "odd setting", version: "8.1.1",
			server:  commandLogServer{config: withConfig("commandlog-reply-larger-than", "1mb")},
			want:    with(nil, `commandlog_enabled{type="large-reply"}`, `commandlog_large_threshold_bytes{type="large-reply"}`),
			wantErr: `commandlog-reply-larger-than "1mb" is not an integer`},
		{name: "Valkey 8.0 has no COMMANDLOG", version: "8.0.1",
			server: commandLogServer{config: defaultCommandLogConfig}, want: map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			answer := func(c collector.Call) collector.Result {
				calls = append(calls, c.Name)
				return tt.server.answer(c)
			}
			facts := valkeyFacts(t, tt.version, "run-1")
			r := replay(t, collector.CommandLog{}, collector.NewState(), facts, answer)
			got, err := scrapeMap(t, collector.CommandLog{}, r)
			if tt.wantErr == "" && err != nil {
				t.Errorf("error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "203.0.113.9") || strings.Contains(err.Error(), "attacker-name")) {
				t.Errorf("error holds an entry's client data: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("metrics:\n got %v\nwant %v", got, tt.want)
			}
			if tt.version == "8.0.1" && len(calls) > 1 { // INFO only
				t.Errorf("calls %v to a server without COMMANDLOG", calls)
			}
		})
	}
}

// An emptied log (COMMANDLOG RESET) keeps its count within a server run; a
// restart (new run id) starts from what the new run's log shows.
func TestCommandLogEventsAcrossScrapes(t *testing.T) {
	st := collector.NewState()
	scrape := func(runID string, newest map[string]int64) map[string]float64 {
		t.Helper()
		srv := commandLogServer{config: defaultCommandLogConfig, newest: newest}
		r := replay(t, collector.CommandLog{}, st, valkeyFacts(t, "8.1.1", runID), srv.answer)
		got, err := scrapeMap(t, collector.CommandLog{}, r)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	const slow = `commandlog_events_total{type="slow"}`
	steps := []struct {
		runID  string
		newest map[string]int64
		want   float64 // -1: absent
	}{
		{"run-1", nil, -1},
		{"run-1", map[string]int64{"slow": 4}, 5},
		{"run-1", nil, 5}, // reset: still 5 events since the start
		{"run-1", map[string]int64{"slow": 6}, 7},
		{"run-2", nil, -1}, // restarted with an empty log
		{"run-2", map[string]int64{"slow": 0}, 1},
	}
	for i, s := range steps {
		got, ok := scrape(s.runID, s.newest)[slow]
		if want := s.want; (want < 0) == ok || (ok && got != want) {
			t.Errorf("scrape %d (%s): %s = %v (present %v), want %v", i, s.runID, slow, got, ok, want)
		}
	}
}

// The recorded COMMANDLOG of Valkey 8.1 and 9.1: the newest entry's time.
func TestSampleCommandLogTimestamps(t *testing.T) {
	for _, v := range []string{"valkey-8.1", "valkey-9.1"} {
		t.Run(v, func(t *testing.T) {
			_, r := sampleReplies(t, v)
			got, err := scrapeMap(t, collector.CommandLog{}, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range []string{"slow", "large-request", "large-reply"} {
				entries := readSample(t, v, "commandlog_get_"+typ).Value.([]any)
				want := entries[0].([]any)[1].(int64)
				if ts := got[`commandlog_last_event_timestamp_seconds{type="`+typ+`"}`]; ts != float64(want) {
					t.Errorf("%s: last event %v, want %d", typ, ts, want)
				}
			}
		})
	}
}

// A user without CommandLogRules is refused COMMANDLOG once per server run
// and ACL: the exporter stops sending what was refused (each refusal is an
// ACL LOG entry and an acl_denied count), keeps the blind spot in
// scrape_command_denied, stops reporting the event count it can no longer
// read, and asks again after ACL LIST changed.
func TestCommandLogDeniedAskedAgainAfterACLChange(t *testing.T) {
	st := collector.NewState()
	facts := valkeyFacts(t, "8.1.1", "run-1")
	srv := commandLogServer{config: defaultCommandLogConfig, newest: map[string]int64{"slow": 4}}
	aclLine := "user exporter on #hash -@all +info " + collector.CommandLogRules
	const events = `commandlog_events_total{type="slow"}`
	scrape := func() (sent []string, got map[string]float64, denied map[string]bool, err error) {
		t.Helper()
		p := collector.NewPlan(facts)
		p.UseState(st)
		collector.CommandLog{}.Plan(p)
		p.Command("ACL", "LIST") // as the acl and acllog collectors plan it
		calls := p.Calls()
		results := make([]collector.Result, len(calls))
		for i, c := range calls {
			sent = append(sent, c.Name)
			if c.Name == "acl|list" {
				results[i] = collector.Result{Value: []any{aclLine}}
				continue
			}
			results[i] = srv.answer(c)
		}
		r, err := collector.NewReplies(p, calls, results)
		if err != nil {
			t.Fatal(err)
		}
		got, err = scrapeMap(t, collector.CommandLog{}, r)
		denied = map[string]bool{}
		for _, d := range r.DeniedCommands() {
			denied[d.Command] = d.Denied
		}
		return sent, got, denied, err
	}
	has := func(calls []string, name string) bool { return slices.Contains(calls, name) }

	if _, got, _, err := scrape(); err != nil || got[events] != 5 {
		t.Fatalf("granted: %s = %v, err %v", events, got[events], err)
	}
	// The grant is revoked: GET only.
	aclLine = "user exporter on #hash -@all +info +commandlog|len"
	srv.deny = map[string]bool{"commandlog|get": true}
	sent, got, denied, err := scrape()
	if !has(sent, "commandlog|get") || !denied["commandlog|get"] || denied["commandlog|len"] || !collector.IsDenied(err) {
		t.Fatalf("first refused scrape: sent %v, denied %v, err %v", sent, denied, err)
	}
	if _, ok := got[events]; ok {
		t.Errorf("%s still reported once GET is refused", events)
	}
	for i := 0; i < 2; i++ {
		sent, got, denied, err = scrape()
		if has(sent, "commandlog|get") || !has(sent, "commandlog|len") {
			t.Errorf("after the refusal: sent %v, want LEN without GET", sent)
		}
		if !denied["commandlog|get"] || denied["commandlog|len"] || err == nil {
			t.Errorf("blind spot not reported: denied %v, err %v", denied, err)
		}
		if _, ok := got[events]; ok || got[`commandlog_entries{type="slow"}`] != 0 {
			t.Errorf("after the refusal: %v", got)
		}
	}
	// The operator grants the rules again: ACL LIST changes.
	aclLine = "user exporter on #hash -@all +info " + collector.CommandLogRules
	srv.deny = nil
	if sent, _, _, _ = scrape(); has(sent, "commandlog|get") {
		t.Errorf("COMMANDLOG GET sent before the scrape that saw the ACL change: %v", sent)
	}
	sent, got, denied, err = scrape()
	if !has(sent, "commandlog|get") || denied["commandlog|get"] || err != nil || got[events] != 5 {
		t.Errorf("after the ACL change: sent %v, denied %v, err %v, %s = %v", sent, denied, err, events, got[events])
	}
}
