package exporter

import (
	"net/http"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// TestFormatCache: a cache gives what expfmt.NegotiateAccept gives for each
// header, whichever header came before (a hit, a miss, a header that was
// replaced), and a nil cache negotiates as well.
func TestFormatCache(t *testing.T) {
	headers := []string{
		"", // no Accept: the first text format offered
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", // Prometheus 2
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",       // protobuf first
		"text/plain;version=0.0.4;escaping=allow-utf-8",
		"text/plain;version=0.0.4;q=1,*/*;q=0.1",
	}
	var c FormatCache
	for round := 0; round < 2; round++ {
		for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 4, 2, 2, 0}, {1, 3, 1, 3, 1}} {
			for _, i := range order {
				h := http.Header{}
				if headers[i] != "" {
					h.Set("Accept", headers[i])
				}
				want := expfmt.NegotiateAccept(h, expfmt.DefaultAcceptedFormats()...)
				for _, cache := range []*FormatCache{&c, nil} {
					got, text := cache.negotiate(h)
					if got != want || text != (want.FormatType() == expfmt.TypeTextPlain) {
						t.Errorf("Accept %q: %q (text %v), want %q", headers[i], got, text, want)
					}
				}
			}
		}
	}
}
