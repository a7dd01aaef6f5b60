package collector

import (
	"slices"
	"strconv"
	"testing"
)

func TestDedupe(t *testing.T) {
	long := make([]string, 0, 40)
	for i := 0; i < 20; i++ {
		long = append(long, strconv.Itoa(i), strconv.Itoa(i%7))
	}
	longWant := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, nil},
		{"one", []string{"a"}, []string{"a"}},
		{"no repeats", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"repeat first", []string{"a", "a", "b"}, []string{"a", "b"}},
		{"repeat later", []string{"a", "b", "c", "b", "a", "d"}, []string{"a", "b", "c", "d"}},
		{"all the same", []string{"x", "x", "x"}, []string{"x"}},
		{"more than a handful", long, longWant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := dedupe(in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("dedupe(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("dedupe changed its input: %q, was %q", in, tc.in)
			}
		})
	}
}
