package acllog

import "sort"

// UnknownUser is the username label of events whose user name is not an
// existing ACL user: attempted names are attacker-chosen and never become
// label values.
const UnknownUser = "unknown"

// EventKey labels an event counter.
type EventKey struct{ Reason, Username string }

// Tracker keeps event counters for one server across scrapes.
//
// From 7.2 (and on Valkey) every entry has an entry-id that is never reused
// (not even after ACL LOG RESET) and a creation timestamp: an entry is keyed
// by both, and its count increase since the last scrape is added. Gaps in
// the ids are entries created and dropped before the exporter saw them
// (evicted from a full log, or reset): they are counted as lost.
//
// Before 7.2 entries have no identity. Events merge into an entry with the
// same reason, context, object and user name updated less than 60 s ago, so
// entries are grouped by that key and the increase of each group's total
// count is added. This is approximate: when the log is full, evicted entries
// hide new events of the same group in the same interval, and after ACL LOG
// RESET the events until the total regains its old value are not counted.
type Tracker struct {
	runID   string
	started bool
	// seen: count per entry (7.2+) or per group total (before), last scrape.
	seen map[string]int64
	// maxID is the largest entry-id seen for this run_id.
	maxID     int64
	haveMaxID bool

	events map[EventKey]float64
	lost   float64
	exact  bool
}

// NewTracker returns a tracker with no history.
func NewTracker() *Tracker {
	return &Tracker{seen: map[string]int64{}, events: map[EventKey]float64{}}
}

// Update adds the events of the current log. runID is the server's run_id: a
// restart starts a new log, whose entries are all new. withIDs says the
// server's entries carry entry-ids (Redis 7.2+, Valkey); an entry without one
// falls back to the approximate grouping. isUser tells whether a name is an
// existing ACL user.
func (t *Tracker) Update(runID string, withIDs bool, entries []Entry, isUser func(string) bool) {
	if !t.started || runID != t.runID {
		t.seen = map[string]int64{}
		t.haveMaxID = false
		t.runID = runID
		t.started = true
	}
	label := func(e Entry) EventKey {
		u := UnknownUser
		if isUser(e.Username) {
			u = e.Username
		}
		return EventKey{Reason: e.Reason, Username: u}
	}
	exact := withIDs
	for _, e := range entries {
		exact = exact && e.HasEntryID
	}
	if exact != t.exact {
		t.seen = map[string]int64{} // the keys of the two modes differ
	}
	t.exact = exact
	seen := make(map[string]int64, len(entries))
	if exact {
		var newIDs, maxNew int64
		for _, e := range entries {
			k := strconvKey(e.EntryID, e.CreatedMillis)
			delta := e.Count - t.seen[k]
			if delta < 0 { // cannot happen to one entry; never go backwards
				delta = 0
			}
			t.events[label(e)] += float64(delta)
			seen[k] = e.Count
			if !t.haveMaxID || e.EntryID > t.maxID {
				newIDs++
			}
			if e.EntryID > maxNew {
				maxNew = e.EntryID
			}
		}
		if t.haveMaxID && maxNew > t.maxID {
			if missing := (maxNew - t.maxID) - newIDs; missing > 0 {
				t.lost += float64(missing)
			}
		}
		if len(entries) > 0 && (!t.haveMaxID || maxNew > t.maxID) {
			t.maxID, t.haveMaxID = maxNew, true
		}
	} else {
		totals := map[string]int64{}
		labels := map[string]EventKey{}
		for _, e := range entries {
			k := e.Reason + "\x00" + e.Context + "\x00" + e.Object + "\x00" + e.Username
			totals[k] += e.Count
			labels[k] = label(e)
		}
		for k, total := range totals {
			if delta := total - t.seen[k]; delta > 0 {
				t.events[labels[k]] += float64(delta)
			}
			seen[k] = total
		}
	}
	t.seen = seen
}

func strconvKey(id, created int64) string {
	return string(appendInt(appendInt(nil, id), created))
}

func appendInt(b []byte, n int64) []byte {
	for i := 0; i < 8; i++ {
		b = append(b, byte(n>>(8*i)))
	}
	return b
}

// Events returns the event counters, sorted by reason and user name.
func (t *Tracker) Events() []Event {
	out := make([]Event, 0, len(t.events))
	for k, v := range t.events {
		out = append(out, Event{EventKey: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Reason != out[j].Reason {
			return out[i].Reason < out[j].Reason
		}
		return out[i].Username < out[j].Username
	})
	return out
}

// Event is one counter.
type Event struct {
	EventKey
	Count float64
}

// Lost returns the entries dropped before the exporter read them; ok is false
// when the server's log has no entry ids (before 7.2), where gaps cannot be
// seen.
func (t *Tracker) Lost() (float64, bool) { return t.lost, t.exact }

// Exact reports whether the last log had entry ids (7.2+ / Valkey).
func (t *Tracker) Exact() bool { return t.exact }
