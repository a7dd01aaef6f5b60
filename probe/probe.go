// Package probe serves the multi-target endpoints: /probe scrapes the target
// a request names with the credentials of a configured module, and
// /discover lists the nodes of a Redis Cluster or the servers a Sentinel
// knows for Prometheus's http_sd. No connection ever goes to a target
// outside the module's allowed_targets, and the module's password therefore
// never reaches a server the operator did not list. Connections are pooled
// per (module, target), closed when the target has not been probed for a
// while, and the number of probes running at once is capped.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/allowlist"
	"github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// Options configure a Prober.
type Options struct {
	Defaults Defaults
	// Handler carries the default scrape timeout and the offset kept free
	// of Prometheus's timeout.
	Handler exporter.HandlerOptions
	// MaxConcurrent caps the probes and discoveries running at once;
	// further requests wait for a slot until their deadline.
	MaxConcurrent int
	// IdleTimeout closes a pooled target not probed for this long.
	IdleTimeout time.Duration
	// MaxTargets caps the pooled targets; when full, the least recently
	// used idle one is closed.
	MaxTargets int
	// Resolver resolves host names that only address ranges can admit
	// (nil: net.DefaultResolver).
	Resolver allowlist.Resolver
	Logger   log.Logger
}

// Prober serves /probe and /discover/* and owns the connection pool.
type Prober struct {
	opts   Options
	logger log.Logger
	sem    chan struct{}

	// modules is the current configuration, swapped whole by a reload.
	modules atomic.Pointer[map[string]*Module]

	mu   sync.Mutex
	pool map[poolKey]*pooled
	// janitor closes idle targets; nil after Close.
	janitor *time.Ticker
	done    chan struct{}

	metrics *selfMetrics
	// formats remembers the format negotiated for the last Accept header.
	formats exporter.FormatCache
}

type poolKey struct {
	module string
	target string // Address.String(): scheme and host:port
}

type pooled struct {
	target   *exporter.Target
	module   *Module
	lastUsed time.Time
	refs     int
	// retired targets are closed when their last user releases them.
	retired bool
}

// New starts a Prober serving modules.
func New(modules map[string]*Module, o Options) *Prober {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 100
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.MaxTargets <= 0 {
		o.MaxTargets = 10000
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	p := &Prober{
		opts:    o,
		logger:  o.Logger,
		sem:     make(chan struct{}, o.MaxConcurrent),
		pool:    map[poolKey]*pooled{},
		done:    make(chan struct{}),
		metrics: newSelfMetrics(),
	}
	p.modules.Store(&modules)
	p.janitor = time.NewTicker(max(o.IdleTimeout/4, time.Second))
	go p.sweepLoop(p.janitor, p.done)
	return p
}

// Close stops the janitor and closes every pooled connection.
func (p *Prober) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.janitor == nil {
		return
	}
	p.janitor.Stop()
	p.janitor = nil
	close(p.done)
	for k, e := range p.pool {
		e.target.Close()
		delete(p.pool, k)
	}
}

func (p *Prober) sweepLoop(t *time.Ticker, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			p.sweep(now)
		}
	}
}

// sweep closes the targets idle for longer than IdleTimeout.
func (p *Prober) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.pool {
		if e.refs == 0 && now.Sub(e.lastUsed) >= p.opts.IdleTimeout {
			e.target.Close()
			delete(p.pool, k)
			level.Debug(p.logger).Log("msg", "closed idle target", "module", k.module, "target", k.target)
		}
	}
}

// SetModules replaces the configuration. Pooled targets of a module that
// changed (or disappeared) are closed once no request uses them; those of
// unchanged modules keep their connection and their collectors' memory
// (ACL LOG counters).
func (p *Prober) SetModules(modules map[string]*Module) {
	p.modules.Store(&modules)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.pool {
		if !sameModule(e.module, modules[k.module]) {
			p.retireLocked(k, e)
		}
	}
}

// Modules returns the current modules.
func (p *Prober) Modules() map[string]*Module { return *p.modules.Load() }

// acquire returns the pooled target for module and addr, creating it.
//
// A reload may run between the request's allowlist check and here.
// SetModules stores the new modules before it takes p.mu to retire the
// targets of changed modules, so under p.mu a target is pooled only for
// the current build of its module, and a pooled target is reused only when
// it was built with the same settings: a target built with a replaced
// module's password or allowlist dialer must never serve the new module.
func (p *Prober) acquire(m *Module, addr exporter.Address) (*pooled, error) {
	key := poolKey{module: m.Name, target: addr.String()}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Modules()[m.Name] != m {
		// Checked against a config replaced since: this request finishes
		// with the module it was admitted by, on a target of its own that
		// is never pooled.
		t, err := m.newTarget(addr, p.logger)
		if err != nil {
			return nil, err
		}
		return &pooled{target: t, module: m, lastUsed: time.Now(), refs: 1, retired: true}, nil
	}
	if e, ok := p.pool[key]; ok {
		if e.module == m || sameModule(e.module, m) {
			// The same build, or one a reload kept because its settings
			// did not change: adopt the new build.
			e.module = m
			e.refs++
			e.lastUsed = time.Now()
			return e, nil
		}
		// Built by a module this reload changed, before SetModules got to
		// retire it.
		p.retireLocked(key, e)
	}
	if len(p.pool) >= p.opts.MaxTargets && !p.evictLocked() {
		return nil, errPoolFull
	}
	t, err := m.newTarget(addr, p.logger)
	if err != nil {
		return nil, err
	}
	e := &pooled{target: t, module: m, lastUsed: time.Now(), refs: 1}
	p.pool[key] = e
	return e, nil
}

// retireLocked takes e out of the pool and closes it now or, when in use,
// at its last release.
func (p *Prober) retireLocked(key poolKey, e *pooled) {
	delete(p.pool, key)
	if e.refs == 0 {
		e.target.Close()
	} else {
		e.retired = true
	}
}

var errPoolFull = errors.New("every pooled target is in use")

// evictLocked closes the least recently used idle target.
func (p *Prober) evictLocked() bool {
	var (
		oldest    poolKey
		oldestAt  time.Time
		found     bool
		oldestEnt *pooled
	)
	for k, e := range p.pool {
		if e.refs == 0 && (!found || e.lastUsed.Before(oldestAt)) {
			oldest, oldestAt, oldestEnt, found = k, e.lastUsed, e, true
		}
	}
	if found {
		oldestEnt.target.Close()
		delete(p.pool, oldest)
	}
	return found
}

func (p *Prober) release(e *pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.refs--
	e.lastUsed = time.Now()
	if e.retired && e.refs == 0 {
		e.target.Close()
	}
}

// PooledTargets returns how many targets the pool holds.
func (p *Prober) PooledTargets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pool)
}

// request is a checked /probe or /discover request.
type request struct {
	module *Module
	addr   exporter.Address
}

// httpError is an answer to a bad request; its text never quotes the
// request (a target may carry a password) nor a connection error.
type httpError struct {
	code   int
	text   string
	result string
}

func (e *httpError) Error() string { return e.text }

// parseRequest checks the module and target parameters and the allowlist,
// before anything connects.
func (p *Prober) parseRequest(ctx context.Context, r *http.Request) (request, *httpError) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return request{}, &httpError{http.StatusMethodNotAllowed, "only GET is supported", resultInvalid}
	}
	q := r.URL.Query()
	name := q.Get("module")
	if name == "" {
		return request{}, &httpError{http.StatusBadRequest, "module parameter is missing", resultInvalid}
	}
	m, ok := p.Modules()[name]
	if !ok {
		return request{}, &httpError{http.StatusBadRequest, "unknown module", resultInvalid}
	}
	target := q.Get("target")
	if target == "" {
		return request{module: m}, &httpError{http.StatusBadRequest, "target parameter is missing", resultInvalid}
	}
	addr, err := exporter.ParseAddress(target)
	if err != nil {
		// ParseAddress's errors never quote the address.
		return request{module: m}, &httpError{http.StatusBadRequest, "target: " + err.Error(), resultInvalid}
	}
	if addr.Network != "tcp" {
		return request{module: m}, &httpError{http.StatusBadRequest, "target: unix sockets cannot be probed; run an exporter with --redis.addr=unix://... beside the server", resultInvalid}
	}
	host, portStr, _ := net.SplitHostPort(addr.Addr)
	port, _ := strconv.Atoi(portStr)
	switch m.Allowlist.Decide(host, port) {
	case allowlist.Allowed:
	case allowlist.NeedsLookup:
		if _, err := m.Allowlist.Resolve(ctx, p.opts.Resolver, host, port); err != nil {
			if !errors.Is(err, allowlist.ErrDenied) {
				level.Warn(p.logger).Log("msg", "resolving a probe target failed", "module", name, "err", err)
			}
			return request{module: m}, &httpError{http.StatusForbidden, allowlist.ErrDenied.Error(), resultDenied}
		}
	default:
		return request{module: m}, &httpError{http.StatusForbidden, allowlist.ErrDenied.Error(), resultDenied}
	}
	return request{module: m, addr: canonical(addr, host, port)}, nil
}

// canonical spells an admitted address one way per server: the pool is
// keyed by it. Otherwise REDIS-1.prod.internal:6379, redis-1.prod.internal:06379
// and :006379, or [::ffff:10.0.0.1] beside 10.0.0.1, would each pool a
// connection of their own, and a caller could hold --probe.max-targets
// connections open to one server (exhausting its maxclients) with one
// allowed target.
func canonical(a exporter.Address, host string, port int) exporter.Address {
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else {
		// DNS names are case-insensitive, and so is TLS name verification.
		host = strings.ToLower(host)
	}
	a.Host = host
	a.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	return a
}

// deadline is the request's scrape timeout, capped by the module's.
func (p *Prober) deadline(r *http.Request, m *Module) time.Duration {
	d := exporter.ScrapeTimeout(r, p.opts.Handler)
	if t := m.Config.TimeoutDuration(); t > 0 && t < d {
		d = t
	}
	return d
}

// slot waits for a free probe slot until ctx ends.
func (p *Prober) slot(ctx context.Context) (release func(), ok bool) {
	select {
	case p.sem <- struct{}{}:
		p.metrics.inFlight.Inc()
		return func() { <-p.sem; p.metrics.inFlight.Dec() }, true
	case <-ctx.Done():
		return nil, false
	}
}

// ServeProbe is GET /probe?target=...&module=...: the security metrics of
// one target, gathered into a fresh registry (no exporter self-metrics).
func (p *Prober) ServeProbe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, e, ctx, finish, ok := p.admit(w, r, "probe")
	if !ok {
		return
	}
	defer finish()
	moduleLabel := req.module.Name

	// No self-metrics here: a probe serves the target's metrics only.
	metrics, up := e.target.ScrapeUp(ctx)
	e.target.Serve(w, r, metrics, nil, promLogger{p.logger}, &p.formats)
	result := resultSuccess
	if !up {
		result = resultFailure
	}
	p.metrics.request("probe", moduleLabel, result)
	p.metrics.duration.WithLabelValues("probe").Observe(time.Since(start).Seconds())
}

// admit is what /probe and /discover do before they talk to the target:
// check the request and the allowlist, set the deadline, wait for a probe
// slot and take the target from the pool. When ok is false the answer is
// written and counted; otherwise finish releases the slot, the target and
// the deadline.
func (p *Prober) admit(w http.ResponseWriter, r *http.Request, endpoint string) (req request, e *pooled, ctx context.Context, finish func(), ok bool) {
	// The allowlist check may resolve a name: bound it by the request's
	// timeout until the module (and so its timeout cap) is known.
	pre, cancelPre := context.WithTimeout(r.Context(), exporter.ScrapeTimeout(r, p.opts.Handler))
	req, herr := p.parseRequest(pre, r)
	cancelPre()
	moduleLabel := ""
	if req.module != nil {
		moduleLabel = req.module.Name
	}
	if herr != nil {
		p.metrics.request(endpoint, moduleLabel, herr.result)
		if herr.code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, HEAD")
		}
		http.Error(w, herr.text, herr.code)
		return req, nil, nil, nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.deadline(r, req.module))
	done, ok := p.slot(ctx)
	if !ok {
		cancel()
		p.metrics.request(endpoint, moduleLabel, resultBusy)
		level.Warn(p.logger).Log("msg", "no probe slot free before the deadline: raise --probe.max-concurrent or the scrape timeout", "endpoint", endpoint, "module", moduleLabel)
		http.Error(w, "too many concurrent probes", http.StatusServiceUnavailable)
		return req, nil, nil, nil, false
	}
	e, err := p.acquire(req.module, req.addr)
	if err != nil {
		done()
		cancel()
		p.metrics.request(endpoint, moduleLabel, resultBusy)
		level.Warn(p.logger).Log("msg", "cannot pool another target: raise --probe.max-targets", "endpoint", endpoint, "module", moduleLabel, "err", err)
		http.Error(w, "too many targets", http.StatusServiceUnavailable)
		return req, nil, nil, nil, false
	}
	return req, e, ctx, func() { p.release(e); done(); cancel() }, true
}

// promLogger adapts go-kit log to promhttp's error logger.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", "serving probe metrics", "err", fmt.Sprint(v...))
}

// Collector returns the Prober's own metrics (for the exporter's /metrics).
func (p *Prober) Collector() prometheus.Collector { return &proberCollector{p} }

type proberCollector struct{ p *Prober }

func (c *proberCollector) Describe(ch chan<- *prometheus.Desc) {
	c.p.metrics.describe(ch)
	ch <- pooledTargetsDesc
	ch <- modulesDesc
}

func (c *proberCollector) Collect(ch chan<- prometheus.Metric) {
	c.p.metrics.collect(ch)
	ch <- prometheus.MustNewConstMetric(pooledTargetsDesc, prometheus.GaugeValue, float64(c.p.PooledTargets()))
	ch <- prometheus.MustNewConstMetric(modulesDesc, prometheus.GaugeValue, float64(len(c.p.Modules())))
}

var (
	pooledTargetsDesc = prometheus.NewDesc("redis_security_exporter_probe_pooled_targets",
		"Targets with a pooled connection (or a pooled attempt) for /probe and /discover.", nil, nil)
	modulesDesc = prometheus.NewDesc("redis_security_exporter_config_modules",
		"Modules in the loaded --config.file.", nil, nil)
)

// newTarget builds a target of the module; its every connection goes
// through the module's allowlist dialer.
func (m *Module) newTarget(addr exporter.Address, logger log.Logger) (*exporter.Target, error) {
	return exporter.NewTarget(exporter.Options{
		Address:          addr,
		Credentials:      m.Credentials,
		TLS:              m.TLS,
		ProbeCertificate: m.Config.TLS.ProbesCertificate(),
		ProbeInterval:    m.ProbeInterval,
		ACLListMaxAge:    m.ACLListMaxAge,
		Scrapers:         m.Scrapers,
		Logger:           log.With(logger, "module", m.Name),
		DialContext:      m.Dialer.DialContext,
	})
}

// NewTarget builds a target of the module for a one-shot use (the check
// command), after checking the address against the allowlist as /probe
// does.
func (m *Module) NewTarget(ctx context.Context, address string, r allowlist.Resolver, logger log.Logger) (*exporter.Target, error) {
	addr, err := exporter.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if addr.Network != "tcp" {
		return nil, errors.New("unix sockets cannot be reached through a module")
	}
	host, portStr, _ := net.SplitHostPort(addr.Addr)
	port, _ := strconv.Atoi(portStr)
	if r == nil {
		r = net.DefaultResolver
	}
	if _, err := m.Allowlist.Resolve(ctx, r, host, port); err != nil {
		return nil, err
	}
	return m.newTarget(addr, logger)
}

// ModuleNames returns the names of modules in order.
func ModuleNames(modules map[string]*Module) []string {
	c := &config.Config{Modules: map[string]*config.Module{}}
	for n, m := range modules {
		c.Modules[n] = m.Config
	}
	return c.ModuleNames()
}
