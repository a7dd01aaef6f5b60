package collector

import (
	"sync"
	"sync/atomic"
)

// interned holds the strings a plan builds on every scrape, and their
// interface values: command names ("acl|log"), request keys and the
// arguments of the calls. They are the same from one scrape to the next and
// between targets, so the interned copy spares the allocations of building
// them anew (a steady probe's plan made some 35 of them). Package-level
// because it is a cache of immutable values shared by every target, like
// the command tables: it has no state a caller can observe.
var interned internTable

// maxInterned bounds the table. The strings come from the collectors
// (command names, parameter names, INFO sections) and from the server (ACL
// user names in ACL DRYRUN requests): a fleet of servers with many users must
// not grow it without end, so past the bound strings are built as before.
const maxInterned = 4096

// maxInternedLen bounds the strings interned, so that the table holds at
// most some 1 MiB: ACL user names in DRYRUN keys can be of any length.
const maxInternedLen = 256

type internTable struct {
	// m maps a string to its internedString.
	m sync.Map
	n atomic.Int64
}

type internedString struct {
	s string
	v any // s as an interface value
}

// str returns b as a string, the interned one when there is one (or room
// for it).
func (t *internTable) str(b []byte) string {
	if e, ok := t.m.Load(string(b)); ok { // string(b) in a lookup does not allocate
		return e.(internedString).s
	}
	s := string(b)
	if e, ok := t.add(s); ok {
		return e.s
	}
	return s
}

// box returns s as an interface value without allocating when s is interned.
func (t *internTable) box(s string) any {
	if e, ok := t.m.Load(s); ok {
		return e.(internedString).v
	}
	if e, ok := t.add(s); ok {
		return e.v
	}
	return s
}

// add interns s when there is room; ok is false when the table is full or
// s too long.
func (t *internTable) add(s string) (e internedString, ok bool) {
	if t.n.Load() >= maxInterned || len(s) > maxInternedLen {
		return internedString{}, false
	}
	v, loaded := t.m.LoadOrStore(s, internedString{s: s, v: s})
	if !loaded {
		t.n.Add(1)
	}
	return v.(internedString), true
}
