package exporter_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/exporter"
)

// TestScrapeTimeout: the header less the offset; a header that is not a
// positive number of seconds up to a day (NaN, Inf, 1e300 would overflow
// into an expired deadline) leaves the default.
func TestScrapeTimeout(t *testing.T) {
	o := exporter.HandlerOptions{DefaultTimeout: 10 * time.Second, TimeoutOffset: 500 * time.Millisecond}
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"15", 14500 * time.Millisecond},
		{"1.5", time.Second},
		{"0.4", 360 * time.Millisecond}, // below the offset: nine tenths
		{"86400", 24*time.Hour - 500*time.Millisecond},
		{"86401", 10 * time.Second},
		{"Inf", 10 * time.Second},
		{"+Inf", 10 * time.Second},
		{"1e300", 10 * time.Second},
		{"NaN", 10 * time.Second},
		{"0", 10 * time.Second},
		{"-5", 10 * time.Second},
		{"ten", 10 * time.Second},
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
		}
		if got := exporter.ScrapeTimeout(r, o); got != tc.want {
			t.Errorf("header %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}
