package collector

import (
	"fmt"
	"strings"
	"testing"
)

func TestInternTable(t *testing.T) {
	var tab internTable
	a := tab.str([]byte("acl|list"))
	if a != "acl|list" {
		t.Fatalf("str = %q", a)
	}
	if got := testing.AllocsPerRun(100, func() { _ = tab.str([]byte("acl|list")) }); got != 0 {
		t.Errorf("str of an interned string allocates %v times", got)
	}
	if v := tab.box("acl|list"); v != any("acl|list") {
		t.Errorf("box = %v", v)
	}
	if got := testing.AllocsPerRun(100, func() { _ = tab.box("acl|list") }); got != 0 {
		t.Errorf("box of an interned string allocates %v times", got)
	}
	long := strings.Repeat("u", maxInternedLen+1)
	if got := tab.str([]byte(long)); got != long {
		t.Errorf("str of a long string = %q", got)
	}
	if tab.box(long) != any(long) {
		t.Error("box of a long string")
	}
	if _, ok := tab.m.Load(long); ok {
		t.Error("a string longer than maxInternedLen was interned")
	}
	// Past the bound, strings are still returned, equal, just not kept.
	for i := 0; tab.n.Load() < maxInterned; i++ {
		tab.box(fmt.Sprint("user", i))
	}
	if got := tab.str([]byte("not-kept")); got != "not-kept" {
		t.Errorf("str past the bound = %q", got)
	}
	if got := tab.box("not-kept-either"); got != any("not-kept-either") {
		t.Errorf("box past the bound = %v", got)
	}
	if _, ok := tab.m.Load("not-kept"); ok {
		t.Error("a string past the bound was interned")
	}
	if n := tab.n.Load(); n != maxInterned {
		t.Errorf("table holds %d strings, bound %d", n, maxInterned)
	}
}
