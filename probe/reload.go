package probe

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/config"
)

var (
	reloadSuccessDesc = prometheus.NewDesc("redis_security_exporter_config_last_reload_successful",
		"1 if the last load of --config.file succeeded; 0 means the exporter still runs the previous config.", nil, nil)
	reloadTimeDesc = prometheus.NewDesc("redis_security_exporter_config_last_reload_success_timestamp_seconds",
		"Time of the last successful load of --config.file.", nil, nil)
)

// Reloader loads --config.file into a Prober: at start-up, on SIGHUP and on
// POST /-/reload. A config that does not load leaves the running one in
// place.
type Reloader struct {
	path     string
	defaults Defaults
	prober   *Prober
	logger   log.Logger

	mu          sync.Mutex
	ok          bool
	lastSuccess time.Time
}

// NewReloader loads path once and returns the Prober serving it; an error
// here is a start-up error.
func NewReloader(path string, d Defaults, o Options) (*Reloader, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	modules, err := BuildModules(c, d)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	o.Defaults = d
	return &Reloader{
		path:        path,
		defaults:    d,
		prober:      New(modules, o),
		logger:      o.Logger,
		ok:          true,
		lastSuccess: time.Now(),
	}, nil
}

// Prober is the Prober the reloader feeds.
func (r *Reloader) Prober() *Prober { return r.prober }

// Reload loads the file again. On error the previous modules stay.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	modules, err := r.load()
	if err != nil {
		r.ok = false
		level.Error(r.logger).Log("msg", "reloading the config file failed; keeping the previous config", "err", err)
		return err
	}
	r.prober.SetModules(modules)
	r.ok = true
	r.lastSuccess = time.Now()
	level.Info(r.logger).Log("msg", "reloaded the config file", "file", r.path, "modules", len(modules))
	return nil
}

func (r *Reloader) load() (map[string]*Module, error) {
	c, err := config.Load(r.path)
	if err != nil {
		return nil, err
	}
	modules, err := BuildModules(c, r.defaults)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", r.path, err)
	}
	return modules, nil
}

// ServeHTTP is POST /-/reload.
func (r *Reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST to reload the config", http.StatusMethodNotAllowed)
		return
	}
	if err := r.Reload(); err != nil {
		// Why goes to the log only: anyone who can reach the exporter may
		// POST here, and the error quotes the config (file paths, YAML
		// values, a password mistakenly written into the file).
		http.Error(w, "reload failed; the previous config stays in place (see the exporter's log)", http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "config reloaded")
}

// Describe and Collect make the reloader a collector of the reload gauges
// and of the Prober's own metrics.
func (r *Reloader) Describe(ch chan<- *prometheus.Desc) {
	ch <- reloadSuccessDesc
	ch <- reloadTimeDesc
	r.prober.Collector().Describe(ch)
}

func (r *Reloader) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	ok, at := r.ok, r.lastSuccess
	r.mu.Unlock()
	v := 0.0
	if ok {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(reloadSuccessDesc, prometheus.GaugeValue, v)
	ch <- prometheus.MustNewConstMetric(reloadTimeDesc, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
	r.prober.Collector().Collect(ch)
}
