package weakset

import (
	"runtime"
	"testing"
	"time"
)

type value struct{ s string }

// TestShare: equal values are one; a hash collision of unequal values keeps
// both apart; a value nobody holds leaves the set.
func TestShare(t *testing.T) {
	var set Set[value]
	share := func(h uint64, s string) *value {
		return set.Share(h, func(v *value) bool { return v.s == s }, func() *value { return &value{s: s} })
	}
	a := share(1, "a")
	if again := share(1, "a"); again != a {
		t.Error("two equal values were not shared")
	}
	b := share(1, "b") // same hash, another value
	if b == a || b.s != "b" {
		t.Errorf("a collision returned %q for %q", b.s, "b")
	}
	if c := share(2, "a"); c == a {
		t.Error("another hash returned the value of hash 1")
	}
	if n := set.Len(); n != 3 {
		t.Errorf("Len %d, want 3", n)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	a, b = nil, nil
	deadline := time.Now().Add(5 * time.Second)
	for set.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d values nobody holds stay in the set", set.Len())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
