package exporter

import (
	"reflect"
	"testing"
)

func TestMergeShortRuns(t *testing.T) {
	f := &family{name: "f"}
	long := minReusedRun
	for _, tc := range []struct {
		name       string
		parts, out []part
	}{
		{"nothing", nil, nil},
		{"new text only", []part{{0, 10, nil}}, []part{{0, 10, nil}}},
		{"a long reused run stays", []part{{0, 10, nil}, {10, 10 + long, []*family{f}}, {10 + long, 20 + long, nil}},
			[]part{{0, 10, nil}, {10, 10 + long, []*family{f}}, {10 + long, 20 + long, nil}}},
		{"a short reused run joins its neighbours", []part{{0, 10, nil}, {10, 10 + long - 1, []*family{f}}, {10 + long - 1, 30 + long, nil}},
			[]part{{0, 30 + long, nil}}},
		{"a short run first", []part{{0, 5, []*family{f}}, {5, 9, nil}, {9, 9 + long, []*family{f}}},
			[]part{{0, 9, nil}, {9, 9 + long, []*family{f}}}},
	} {
		if got := mergeShortRuns(tc.parts); !reflect.DeepEqual(got, tc.out) && (len(got) > 0 || len(tc.out) > 0) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.out)
		}
	}
}
