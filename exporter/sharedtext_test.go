package exporter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestFamilyTextShared: two targets' families of equal text share one copy;
// a family that changes scrape after scrape gets a buffer of its own, and
// shares again once it is steady; the
// text another target shares is never written over.
func TestFamilyTextShared(t *testing.T) {
	d := prometheus.NewDesc("redis_security_test_shared_text", "A setting.", []string{"setting"}, nil)
	write := func(f *family, gen int, v float64) {
		t.Helper()
		f.seen = gen
		f.cur = append(f.cur[:0], prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, "timeout"))
		var buf bytes.Buffer
		if _, err := f.write(&buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), f.encoded) {
			t.Fatalf("scrape %d: wrote %q, keeps %q", gen, buf.Bytes(), f.encoded)
		}
	}
	has := func(f *family, v float64) bool {
		return strings.Contains(string(f.encoded), fmt.Sprintf("redis_security_test_shared_text{setting=\"timeout\"} %v\n", v))
	}
	a := &family{name: "redis_security_test_shared_text", help: "A setting."}
	b := &family{name: a.name, help: a.help}
	write(a, 1, 1)
	write(b, 1, 1)
	if a.shared == nil || a.shared != b.shared {
		t.Fatal("two targets' equal texts are two copies")
	}
	// A family new in one scrape and changed in the next, and the one
	// after (durations): a buffer of its own, rewritten in place.
	write(a, 2, 2)
	if a.shared != nil || !has(a, 2) || !has(b, 1) {
		t.Fatalf("a changing family: a %q (shared %v), b %q", a.encoded, a.shared != nil, b.encoded)
	}
	write(a, 3, 3)
	write(a, 4, 4)
	if a.shared != nil || !has(a, 4) || !has(b, 1) {
		t.Fatalf("a changing family: a %q (shared %v), b %q", a.encoded, a.shared != nil, b.encoded)
	}
	write(a, 6, 1) // steady again, the value b has: b's copy
	if a.shared != b.shared || !has(a, 1) {
		t.Fatalf("back to b's text: a %q, shared with b %v", a.encoded, a.shared == b.shared)
	}
}
