package exporter

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// HandlerOptions configure MetricsHandler.
type HandlerOptions struct {
	// DefaultTimeout applies when Prometheus sends no
	// X-Prometheus-Scrape-Timeout-Seconds header (curl, other scrapers).
	DefaultTimeout time.Duration
	// TimeoutOffset is kept free of Prometheus's timeout so that the reply
	// (up 0 included) arrives before Prometheus gives up.
	TimeoutOffset time.Duration
	Logger        log.Logger
}

// maxHeaderTimeout bounds the scrape timeout a request's header may ask
// for: Prometheus's is at most its scrape interval, and a larger value (Inf,
// 1e300) would overflow time.Duration into a negative, expired deadline.
const maxHeaderTimeout = 24 * time.Hour

// ScrapeTimeout returns how long a scrape may take for request r: the
// X-Prometheus-Scrape-Timeout-Seconds header less the offset, or the
// default when the header is absent, not a number, not positive or above
// maxHeaderTimeout.
func ScrapeTimeout(r *http.Request, o HandlerOptions) time.Duration {
	timeout := o.DefaultTimeout
	if h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); h != "" {
		if secs, err := strconv.ParseFloat(h, 64); err == nil && secs > 0 && secs <= maxHeaderTimeout.Seconds() {
			timeout = time.Duration(secs * float64(time.Second))
			if timeout > o.TimeoutOffset {
				timeout -= o.TimeoutOffset
			} else {
				timeout = timeout * 9 / 10
			}
		}
	}
	return timeout
}

// MetricsHandler serves the target's metrics plus those of extra (the
// exporter's own process, Go and build metrics). Each request gathers from a
// fresh registry, so the scrape runs with the request's deadline.
func MetricsHandler(t *Target, extra prometheus.Gatherer, o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	errorLog := promLogger{o.Logger}
	var formats FormatCache
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ScrapeTimeout(r, o))
		defer cancel()
		t.Serve(w, r, t.Scrape(ctx), extra, errorLog, &formats)
	})
}

// promLogger adapts go-kit log to promhttp's error logger.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", "serving metrics", "err", fmt.Sprint(v...))
}
