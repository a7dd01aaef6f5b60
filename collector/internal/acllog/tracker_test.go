package acllog

import (
	"reflect"
	"testing"
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

func entry(id, created, count int64, reason, user string) Entry {
	return Entry{HasEntryID: true, EntryID: id, CreatedMillis: created, Count: count, Reason: reason, Username: user, Context: "toplevel", Source: "127.0.0.1"}
}

func events(t *Tracker) map[EventKey]float64 {
	out := map[EventKey]float64{}
	for _, e := range t.Events() {
		out[e.EventKey] = e.Count
	}
	return out
}

// TestTrackerWithEntryIDs walks one 7.2+ server through merges, new entries,
// repeated scrapes, ACL LOG RESET, eviction gaps and a restart.
func TestTrackerWithEntryIDs(t *testing.T) {
	users := isUser("alice", "default")
	steps := []struct {
		name    string
		runID   string
		entries []Entry
		want    map[EventKey]float64
		lost    float64
	}{
		{
			name:    "first scrape counts what is in the log",
			runID:   "r1",
			entries: []Entry{entry(2, 200, 3, "auth", "nobody"), entry(1, 100, 1, "key", "alice")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 3, {"key", "alice"}: 1},
		},
		{
			name:    "a repeated scrape adds nothing",
			runID:   "r1",
			entries: []Entry{entry(2, 200, 3, "auth", "nobody"), entry(1, 100, 1, "key", "alice")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 3, {"key", "alice"}: 1},
		},
		{
			name:    "merged events grow an entry: only the increase counts",
			runID:   "r1",
			entries: []Entry{entry(2, 200, 10, "auth", "nobody"), entry(3, 300, 2, "auth", "alice"), entry(1, 100, 1, "key", "alice")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 10, {"auth", "alice"}: 2, {"key", "alice"}: 1},
		},
		{
			name:    "ACL LOG RESET empties the log: nothing goes backwards",
			runID:   "r1",
			entries: nil,
			want:    map[EventKey]float64{{"auth", UnknownUser}: 10, {"auth", "alice"}: 2, {"key", "alice"}: 1},
		},
		{
			name:    "ids continue after reset; ids 4 and 5 never seen are lost",
			runID:   "r1",
			entries: []Entry{entry(6, 600, 1, "command", "default")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 10, {"auth", "alice"}: 2, {"key", "alice"}: 1, {"command", "default"}: 1},
			lost:    2,
		},
		{
			name:    "restart: a new log whose ids start again is counted in full",
			runID:   "r2",
			entries: []Entry{entry(1, 900, 4, "auth", "alice")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 10, {"auth", "alice"}: 6, {"key", "alice"}: 1, {"command", "default"}: 1},
			lost:    2,
		},
		{
			name:    "same entry-id with another creation time is another entry",
			runID:   "r2",
			entries: []Entry{entry(1, 950, 1, "auth", "alice")},
			want:    map[EventKey]float64{{"auth", UnknownUser}: 10, {"auth", "alice"}: 7, {"key", "alice"}: 1, {"command", "default"}: 1},
			lost:    2,
		},
	}
	tr := NewTracker()
	for _, s := range steps {
		tr.Update(s.runID, true, s.entries, users)
		if got := events(tr); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: events = %v, want %v", s.name, got, s.want)
		}
		if lost, ok := tr.Lost(); !ok || lost != s.lost {
			t.Fatalf("%s: lost = %v (%v), want %v", s.name, lost, ok, s.lost)
		}
	}
}

// TestTrackerAttackerChosenNames: any number of attempted names makes one
// label value.
func TestTrackerAttackerChosenNames(t *testing.T) {
	tr := NewTracker()
	var entries []Entry
	for i := int64(1); i <= 100; i++ {
		entries = append(entries, entry(i, i, 1, "auth", "attacker-"+string(rune('a'+i%26))+"\x00{}\"=,"))
	}
	tr.Update("r", true, entries, isUser("alice"))
	ev := tr.Events()
	if len(ev) != 1 || ev[0].Username != UnknownUser || ev[0].Count != 100 {
		t.Fatalf("events = %+v, want one unknown series of 100", ev)
	}
}

// TestTrackerWithoutEntryIDs: before 7.2 entries are grouped.
func TestTrackerWithoutEntryIDs(t *testing.T) {
	old := func(count int64, reason, object, user string) Entry {
		return Entry{Count: count, Reason: reason, Context: "toplevel", Object: object, Username: user}
	}
	tr := NewTracker()
	steps := []struct {
		entries []Entry
		want    map[EventKey]float64
	}{
		{[]Entry{old(3, "auth", "AUTH", "nobody"), old(1, "key", "secret:1", "alice")},
			map[EventKey]float64{{"auth", UnknownUser}: 3, {"key", "alice"}: 1}},
		{[]Entry{old(3, "auth", "AUTH", "nobody"), old(1, "key", "secret:1", "alice")},
			map[EventKey]float64{{"auth", UnknownUser}: 3, {"key", "alice"}: 1}},
		// a merge, and an entry of the same group created after 60 s
		{[]Entry{old(2, "auth", "AUTH", "nobody"), old(5, "auth", "AUTH", "nobody"), old(1, "key", "secret:1", "alice")},
			map[EventKey]float64{{"auth", UnknownUser}: 7, {"key", "alice"}: 1}},
		// reset: nothing goes backwards
		{nil, map[EventKey]float64{{"auth", UnknownUser}: 7, {"key", "alice"}: 1}},
		{[]Entry{old(1, "auth", "AUTH", "nobody")}, map[EventKey]float64{{"auth", UnknownUser}: 8, {"key", "alice"}: 1}},
	}
	for i, s := range steps {
		tr.Update("r", false, s.entries, isUser("alice"))
		if got := events(tr); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d: events = %v, want %v", i, got, s.want)
		}
	}
	if _, ok := tr.Lost(); ok {
		t.Error("lost events reported without entry ids")
	}
}

func TestSourceOf(t *testing.T) {
	for in, want := range map[string]string{
		"id=4 addr=127.0.0.1:36208 laddr=127.0.0.1:24292 fd=9": "127.0.0.1",
		"id=4 addr=[::1]:5555 laddr=[::1]:6379":                "::1",
		"id=4 addr=::1:5555":                                   "::1",
		"id=4 addr=/tmp/redis.sock:0 laddr=/tmp/redis.sock:0":  "unix",
		"id=4 addr=evil\"host:1":                               "unknown",
		"id=4 name=addr=1.2.3.4:5":                             "unknown",
		"":                                                     "unknown",
		"id=4 addr=::ffff:10.0.0.1:99":                         "10.0.0.1",
	} {
		if got := sourceOf(in); got != want {
			t.Errorf("sourceOf(%q) = %q, want %q", in, got, want)
		}
	}
}
