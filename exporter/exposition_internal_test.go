package exporter

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
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

// A run of reused families is served from the chunks kept for its
// families: a run that grew compresses only the families no kept chunk
// starts with, a steady run compresses nothing, and a family whose text
// changed invalidates the chunk that holds it.
func TestWriteRunReusesChunks(t *testing.T) {
	fam := func(name string, gen uint64) *family {
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "redis_security_%s{user=\"user%04d\"} %d\n", name, i, i*int(gen))
		}
		return &family{name: name, encoded: []byte(b.String()), gen: gen}
	}
	text := func(run []*family) []byte {
		var b []byte
		for _, f := range run {
			b = append(b, f.encoded...)
		}
		return b
	}
	write := func(run []*family) []byte {
		t.Helper()
		var out bytes.Buffer
		writeRun(&out, run, text(run))
		got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(out.Bytes()), bytes.NewReader([]byte{0x03, 0x00}))))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, text(run)) {
			t.Fatalf("the chunks inflate to other text than the run's")
		}
		return out.Bytes()
	}
	a, b, c, d, x := fam("a", 1), fam("b", 1), fam("c", 1), fam("d", 1), fam("x", 1)
	ab := write([]*family{a, b})
	cOnly := write([]*family{c})
	grown := []*family{a, b, x, c, d}
	first := write(grown)
	if !bytes.HasPrefix(first, ab) || !bytes.Contains(first, cOnly) {
		t.Errorf("a grown run did not reuse the chunks of [a b] and [c]")
	}
	if len(x.chunk.fams) != 1 || len(d.chunk.fams) != 1 {
		t.Errorf("the families compressed now are not kept as chunks of their own: x %d, d %d", len(x.chunk.fams), len(d.chunk.fams))
	}
	if again := write(grown); !bytes.Equal(again, first) {
		t.Errorf("a steady run was compressed again")
	}
	b.gen, b.encoded = 2, fam("b", 2).encoded
	if changed := write(grown); bytes.HasPrefix(changed, ab) || !bytes.Contains(changed, cOnly) {
		t.Errorf("a changed family's chunk was reused, or the chunks after it were not")
	}
	if len(a.chunk.fams) != 2 || a.chunk.gens[1] != 2 {
		t.Errorf("[a b] was not kept anew after b changed: %v", a.chunk.gens)
	}
}

// BenchmarkDeflateChunk compresses exposition text of the sizes a scrape
// compresses: a probe's changed families (2 KiB), a /metrics request's
// (8 KiB, with the Go and process metrics), and a first scrape of 1000 ACL
// users (800 KiB). out-bytes is the compressed size.
func BenchmarkDeflateChunk(b *testing.B) {
	for _, size := range []int{2 << 10, 8 << 10, 800 << 10} {
		var text bytes.Buffer
		for i := 0; text.Len() < size; i++ {
			fmt.Fprintf(&text, "redis_security_scrape_collector_duration_seconds{collector=\"c%d\"} %g\n", i%7, float64(i*7919%100003)*1.37e-8)
			fmt.Fprintf(&text, "redis_security_acl_user_enabled{user=\"user%04d\"} %d\n", i, i%2)
		}
		data := text.Bytes()[:size]
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var out bytes.Buffer
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				out.Reset()
				deflateChunk(&out, data)
			}
			b.ReportMetric(float64(out.Len()), "out-bytes")
		})
	}
}
