package acllog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/acllog"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

func isUser(names ...string) func(string) bool {
	return func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
}

// TestParseSamples: the recorded ACL LOG of every version (see the samples'
// README: 3 failed AUTH as "nobody", 1 as alice, then alice's key and command
// denials).
func TestParseSamples(t *testing.T) {
	for _, v := range []struct {
		version string
		withIDs bool
	}{{"redis-6.2", false}, {"redis-7.0", false}, {"redis-7.2", true}, {"redis-7.4", true}, {"valkey-8.0", true}} {
		t.Run(v.version, func(t *testing.T) {
			res, err := redistest.ReadSample("testdata", v.version, "acl_log")
			if err != nil || res.Err != nil {
				t.Fatal(err, res.Err)
			}
			entries, err := acllog.Parse(res.Value)
			if err != nil {
				t.Fatal(err)
			}
			byReason := map[string]int64{}
			for _, e := range entries {
				byReason[e.Reason+"/"+e.Username] += e.Count
				if e.Source != "127.0.0.1" {
					t.Errorf("source = %q", e.Source)
				}
				if e.HasEntryID != v.withIDs {
					t.Errorf("HasEntryID = %v", e.HasEntryID)
				}
				if v.withIDs && (e.CreatedMillis == 0 || e.LastUpdatedMillis < e.CreatedMillis) {
					t.Errorf("timestamps %d/%d", e.CreatedMillis, e.LastUpdatedMillis)
				}
			}
			want := map[string]int64{"auth/nobody": 3, "auth/alice": 1, "key/alice": 1, "command/alice": 1}
			for k, n := range want {
				if byReason[k] != n {
					t.Errorf("%s = %d, want %d (all: %v)", k, byReason[k], n, byReason)
				}
			}
		})
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for name, reply := range map[string]any{
		"not an array":    "x",
		"entry not array": []any{"x"},
		"odd fields":      []any{[]any{"count"}},
		"no count":        []any{[]any{"reason", "auth"}},
		"bad count":       []any{[]any{"count", "x", "reason", "auth"}},
		"negative count":  []any{[]any{"count", int64(-1), "reason", "auth"}},
		"bad age":         []any{[]any{"count", int64(1), "reason", "auth", "age-seconds", "soon"}},
		"id without time": []any{[]any{"count", int64(1), "reason", "auth", "entry-id", int64(1)}},
	} {
		if _, err := acllog.Parse(reply); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	entries, err := acllog.Parse([]any{[]any{"count", int64(2), "reason", "auth", "future-field", []any{int64(1)}}})
	if err != nil || len(entries) != 1 || entries[0].Source != "unknown" {
		t.Errorf("unknown fields must be tolerated: %v %+v", err, entries)
	}
}

// FuzzParseAndTrack: no reply makes the parser or the tracker panic, and no
// attempted user name becomes a label.
func FuzzParseAndTrack(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/*/acl_log.resp")
	for _, d := range dirs {
		b, _ := os.ReadFile(d)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := redistest.ParseRESP2(b)
		if err != nil || res.Err != nil {
			return
		}
		entries, err := acllog.Parse(res.Value)
		if err != nil {
			return
		}
		tr := acllog.NewTracker()
		tr.Update("r", true, entries, isUser("alice"))
		tr.Update("r", true, entries, isUser("alice"))
		for _, e := range tr.Events() {
			if e.Username != "alice" && e.Username != acllog.UnknownUser {
				t.Fatalf("label from an attempted name: %q", e.Username)
			}
			if e.Count < 0 {
				t.Fatalf("negative counter %v", e.Count)
			}
		}
		for _, e := range entries {
			if strings.ContainsAny(e.Source, "\"\n ") {
				t.Fatalf("unsafe source %q", e.Source)
			}
		}
	})
}
