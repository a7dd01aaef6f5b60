package collector

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestLabelValues(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"alice", "/var/lib/redis", ""}, []string{"alice", "/var/lib/redis", ""}},
		{[]string{"ünïcode ✓"}, []string{"ünïcode ✓"}},
		// Redis accepts any bytes in a user name: not valid UTF-8.
		{[]string{"u\xff", "ok"}, []string{`"u\xff"`, "ok"}},
		// A valid name that looks like a quoted one is quoted as well,
		// so that it cannot collide with the one above.
		{[]string{`"u\xff"`}, []string{`"\"u\\xff\""`}},
		{[]string{`"`}, []string{`"\""`}},
	} {
		in := slices.Clone(tc.in)
		got := labelValues(in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("labelValues(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("labelValues modified its argument: %q", in)
		}
	}
}

// Distinct server values must stay distinct labels, or one series would
// hide another (a user could be given the label of an existing one).
func FuzzLabelValues(f *testing.F) {
	f.Add("u\xff", `"u\xff"`)
	f.Add("a", "a\x00")
	f.Fuzz(func(t *testing.T, a, b string) {
		la, lb := labelValues([]string{a})[0], labelValues([]string{b})[0]
		if !utf8.ValidString(la) || !utf8.ValidString(lb) {
			t.Fatalf("invalid UTF-8 label from %q or %q", a, b)
		}
		if a != b && la == lb {
			t.Fatalf("%q and %q both become label %q", a, b, la)
		}
	})
}
