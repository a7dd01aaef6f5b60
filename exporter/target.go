// Package exporter scrapes one Redis/Valkey target: it keeps the connection
// between scrapes, sends every collector's requests in one pipelined round
// trip, shares one in-flight scrape between concurrent requests, and reports
// scrape health next to the collectors' metrics.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/redis-security/redis_security_exporter/collector"
)

var (
	upDesc = prometheus.NewDesc("redis_security_up",
		"1 if the exporter connected, authenticated and got a reply this scrape.", nil, nil)
	scrapeDurationDesc = prometheus.NewDesc("redis_security_scrape_duration_seconds",
		"Wall time of this target's scrape.", nil, nil)
	collectorSuccessDesc = prometheus.NewDesc("redis_security_scrape_collector_success",
		"1 if the collector produced its metrics.", []string{"collector"}, nil)
	collectorDurationDesc = prometheus.NewDesc("redis_security_scrape_collector_duration_seconds",
		"Time spent turning the replies into the collector's metrics (the round trip is shared and counted in scrape_duration_seconds).",
		[]string{"collector"}, nil)
	commandDeniedDesc = prometheus.NewDesc("redis_security_scrape_command_denied",
		"1 when the exporter's own user got NOPERM for a command it needs (a blind spot), 0 for every other command sent.",
		[]string{"command"}, nil)
)

// Credentials returns the user name and password for a new connection. It is
// called for every connection, so a rotated password file is picked up.
type Credentials func(ctx context.Context) (username, password string, err error)

// Options configure a Target.
type Options struct {
	Address     Address
	Credentials Credentials // nil: no AUTH
	// TLS configures rediss:// connections and the client certificate the
	// certificate probe presents; nil means the system's roots, TLS 1.2 or
	// later, and no client certificate.
	TLS *ClientTLS
	// ProbeCertificate enables, for plaintext TCP targets whose server has
	// a tls-port, a TLS handshake to that port of the same host to read the
	// server's certificate, at most every ProbeInterval (default 10m) and
	// after each restart of the server.
	ProbeCertificate bool
	ProbeInterval    time.Duration
	Scrapers         []collector.Scraper
	// ACLListMaxAge is how long an ACL LIST reply is reused while INFO
	// commandstats shows no ACL change and the server did not restart;
	// 0 reads ACL LIST every scrape.
	ACLListMaxAge time.Duration
	Logger        log.Logger
	// DialContext opens every TCP connection to the server, the
	// certificate probe's included; nil means a plain net.Dialer. The
	// multi-target endpoints pass their allowlist's dialer here, so that no
	// connection can go where the module does not allow.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultACLListMaxAge is --acl.list-max-age's default: how long an ACL
// LIST reply is reused while no ACL change is counted.
const DefaultACLListMaxAge = 5 * time.Minute

// DefaultProbeInterval is how long a probed certificate is reused.
const DefaultProbeInterval = 10 * time.Minute

// Target is one Redis/Valkey server.
type Target struct {
	addr     Address
	client   *redis.Client
	scrapers []collector.Scraper
	logger   log.Logger
	// scraperLogger is logger with the key collector, whose value is
	// scraping, the scraper that runs now: one logger per target rather
	// than one built per scraper and scrape (a tenth of a probe's
	// allocations were go-kit contexts). Only the in-flight scrape
	// touches scraping, and scrapers log only while they run.
	scraperLogger log.Logger
	scraping      string
	// flightMu guards inFlight, the scrape that concurrent requests join.
	flightMu sync.Mutex
	inFlight *flight

	dialer *dialer
	tls    *ClientTLS
	// probe settings and the last probe's result (see probeCertificate).
	probeEnabled  bool
	probeInterval time.Duration
	probe         *certProbe

	mu    sync.Mutex
	facts collector.Facts
	// state is the collectors' memory of this target; only the (single)
	// in-flight scrape touches it.
	state *collector.State
	// expo caches the encoded text of unchanged metric families.
	expo exposition
	// lastSeries is the last successful scrape's series count; only the
	// in-flight scrape touches it.
	lastSeries int
}

// NewTarget prepares a target; it connects lazily, at the first scrape.
func NewTarget(o Options) (*Target, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Address.Network == "" {
		return nil, errors.New("target has no address")
	}
	opt := &redis.Options{
		Network: o.Address.Network,
		Addr:    o.Address.Addr,
		// RESP2: the replies the collectors parse, on every version.
		Protocol: 2,
		// No CLIENT SETINFO / SETNAME on connect: a least-privileged user may
		// not run them, and every refusal would be an ACL LOG entry caused by
		// the exporter itself.
		DisableIdentity: true,
		// One connection, kept between scrapes; the shared flight guarantees one
		// scrape at a time per target.
		PoolSize:     1,
		MaxIdleConns: 1,
		// No separate pipeline pool: it would be a second connection, and
		// when its handshake fails go-redis "spills" to the main pool and
		// authenticates again, doubling failed AUTHs on the server.
		PipelinePoolSize: -1,
		// go-redis sizes each connection's buffers for a busy client (32 KiB
		// each way); a steady scrape sends under 1 KiB and reads about 5 KiB,
		// and a pooled /probe target keeps its connection for good. Replies
		// larger than the read buffer still arrive whole: bufio reads a long
		// bulk string straight into its destination; a first scrape's longer
		// pipeline (COMMAND INFO, ACL DRYRUN) is written in a few pieces.
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 2 << 10,
		// Retries would multiply failed AUTHs and outlive the scrape deadline;
		// a server that is down must be reported down at once.
		MaxRetries:    -1,
		DialerRetries: 1,
		// The scrape's context carries the deadline.
		ContextTimeoutEnabled: true,
		DialTimeout:           5 * time.Second,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		PoolTimeout:           30 * time.Second,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	if o.DialContext == nil {
		var nd net.Dialer
		o.DialContext = nd.DialContext
	}
	logger := log.With(o.Logger, "target", o.Address.String())
	d := &dialer{creds: o.Credentials, tls: o.TLS, tlsOn: o.Address.TLS, tlsHost: o.Address.Host, connect: o.DialContext, logger: logger}
	opt.Dialer = d.dial
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	state := collector.NewState()
	state.SetACLListMaxAge(o.ACLListMaxAge)
	t := &Target{
		addr:          o.Address,
		client:        redis.NewClient(opt),
		scrapers:      o.Scrapers,
		logger:        logger,
		state:         state,
		dialer:        d,
		tls:           o.TLS,
		probeEnabled:  o.ProbeCertificate && !o.Address.TLS && o.Address.Network == "tcp",
		probeInterval: o.ProbeInterval,
	}
	t.scraperLogger = log.With(t.logger, "collector", log.Valuer(func() any { return t.scraping }))
	return t, nil
}

// Close closes the connection.
func (t *Target) Close() error { return t.client.Close() }

// Address returns the target's address.
func (t *Target) Address() Address { return t.addr }

// Describe sends every Desc a scrape of this target can emit.
func (t *Target) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{upDesc, scrapeDurationDesc, collectorSuccessDesc, collectorDurationDesc, commandDeniedDesc,
		tlsCertNotAfterDesc, tlsConnectionInfoDesc} {
		ch <- d
	}
	for _, s := range t.scrapers {
		s.Describe(ch)
	}
	collector.DescribeFindings(ch)
}

// Scrape scrapes the target once, or joins the scrape already in flight, and
// returns its metrics. It returns by ctx's deadline at the latest: a request
// that joined stops waiting then, and the request that scrapes stops when
// the scrape's waits (dial, round trip) give up at that deadline.
func (t *Target) Scrape(ctx context.Context) []prometheus.Metric {
	return t.scrapeResult(ctx).metrics
}

// ScrapeUp is Scrape that also reports whether the target was up.
func (t *Target) ScrapeUp(ctx context.Context) ([]prometheus.Metric, bool) {
	r := t.scrapeResult(ctx)
	return r.metrics, r.err == nil
}

// Client is the target's connection, for the discovery endpoints' own
// read-only commands. It is the same single connection the scrapes use, so
// a discovery waits for a scrape in flight rather than opening another.
func (t *Target) Client() *redis.Client { return t.client }

// result is one scrape: its metrics, and why the target was down (nil when
// it was up).
type result struct {
	metrics []prometheus.Metric
	err     error
}

func (t *Target) scrapeResult(ctx context.Context) (res result) {
	t.flightMu.Lock()
	if f := t.inFlight; f != nil {
		t.flightMu.Unlock()
		select {
		case <-f.done:
			return f.res
		case <-ctx.Done():
			return deadlineResult(t, ctx)
		}
	}
	f := &flight{done: make(chan struct{})}
	t.inFlight = f
	t.flightMu.Unlock()
	// The first request scrapes in its own goroutine (handing the scrape
	// to another cost a goroutine's start and a wake-up per scrape, a
	// tenth of a /probe), and returns when it ends: the scrape keeps the
	// request's deadline, and every wait in it (dial, round trip) honours
	// it. It does not die with the request's connection: others may have
	// joined it.
	shared := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		shared, cancel = context.WithDeadline(shared, dl)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			// A panic outside the scrapers (the plan, its follow-up, the
			// findings: a bug meeting odd replies) fails the scrape as a
			// server error does, for this request and its joiners alike,
			// instead of dropping the response: up 0, and the panic with
			// its stack in the log.
			level.Error(t.logger).Log("msg", "scrape panicked: a bug in the exporter, please report it", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			f.res = t.failedResult(fmt.Errorf("scrape panicked: %v", p))
			res = f.res
		}
		t.endFlight(f)
	}()
	f.res = t.scrape(shared)
	return f.res
}

// failedResult is a scrape that could not run: up 0 and every collector
// failed, built without the memo (a panic may have left it mid-scrape).
func (t *Target) failedResult(err error) result {
	var out []prometheus.Metric
	t.emitFailed(func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	})
	return result{metrics: out, err: err}
}

// emitFailed sends what a failed scrape reports: up 0 and every
// collector's success 0.
func (t *Target) emitFailed(emit func(d *prometheus.Desc, v float64, labels ...string)) {
	emit(upDesc, 0)
	for _, s := range t.scrapers {
		emit(collectorSuccessDesc, 0, s.Name())
	}
}

// flight is a scrape in progress, which concurrent requests join.
type flight struct {
	done chan struct{}
	res  result // set before done is closed
}

func (t *Target) endFlight(f *flight) {
	t.flightMu.Lock()
	t.inFlight = nil
	t.flightMu.Unlock()
	close(f.done)
}

func deadlineResult(t *Target, ctx context.Context) result {
	level.Warn(t.logger).Log("msg", "scrape did not finish before the deadline", "err", ctx.Err())
	return result{
		metrics: []prometheus.Metric{prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)},
		err:     fmt.Errorf("scrape did not finish before the deadline: %w", ctx.Err()),
	}
}

// Collector returns a prometheus.Collector whose Collect scrapes the target
// with ctx (which carries the scrape deadline).
func (t *Target) Collector(ctx context.Context) prometheus.Collector {
	return &targetCollector{t: t, ctx: ctx}
}

type targetCollector struct {
	t   *Target
	ctx context.Context
}

func (c *targetCollector) Describe(ch chan<- *prometheus.Desc) { c.t.Describe(ch) }

func (c *targetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.t.Scrape(c.ctx) {
		ch <- m
	}
}

func (t *Target) cachedFacts() collector.Facts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.facts
}

func (t *Target) setFacts(f collector.Facts) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.facts = f
}

func (t *Target) plan(f collector.Facts) *collector.Plan {
	p := collector.NewPlan(f)
	p.UseState(t.state)
	for _, s := range t.scrapers {
		s.Plan(p)
	}
	if t.probeEnabled {
		p.Config("tls-port") // where to probe the certificate
	}
	return p
}

// scrape does the work of one scrape.
func (t *Target) scrape(ctx context.Context) result {
	start := time.Now()
	// Every scrape ends with the memo's sweep, a failed or panicking one too:
	// the memo keeps one scrape's call order, which would otherwise grow with
	// every such scrape of a server that stays down or trips a panic.
	defer t.state.EndScrape()
	// Sized as the last scrape: a thousand users' twelve thousand series
	// would otherwise be copied over and over as the slice grows.
	out := make([]prometheus.Metric, 0, t.lastSeries+16)
	emit := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, t.state.ConstMetric(d, prometheus.GaugeValue, v, labels...))
	}

	replies, err := t.fetch(ctx)
	out = append(out, t.tlsMetrics(ctx, start, replies, err == nil)...)
	if err != nil {
		if replies != nil {
			replies.Release() // a failed follow-up: nothing reads them further
		}
		level.Error(t.logger).Log("msg", "scrape failed", "err", err)
		t.emitFailed(emit)
		emit(scrapeDurationDesc, time.Since(start).Seconds())
		return result{metrics: out, err: err}
	}
	emit(upDesc, 1)

	for _, s := range t.scrapers {
		sStart := time.Now()
		t.scraping = s.Name()
		err := runScraper(s, replies, t.scraperLogger, &out)
		success := 1.0
		if err != nil {
			success = 0
			level.Error(t.logger).Log("msg", "collector failed", "collector", s.Name(), "err", err)
		}
		emit(collectorSuccessDesc, success, s.Name())
		emit(collectorDurationDesc, time.Since(sStart).Seconds(), s.Name())
	}
	t.scraping = "" // scraperLogger is for scrapers only
	// After the scrapers: they may report a denial remembered from an
	// earlier scrape for a command they no longer send (ACL DRYRUN).
	for _, d := range replies.DeniedCommands() {
		if d.Denied {
			level.Warn(t.logger).Log("msg", "the exporter's user may not run a command it needs: grant it (see the README's ACL user)", "command", d.Command)
		}
		emit(commandDeniedDesc, boolValue(d.Denied), d.Command)
	}
	replies.Release() // nothing reads the replies after this
	// Findings read the metrics above: a check whose inputs are missing
	// (denied, disabled collector, older version) is not evaluated.
	out = append(out, collector.FindingMetrics(collector.EvaluateScrape(t.state, out, time.Now()), t.state)...)
	emit(scrapeDurationDesc, time.Since(start).Seconds())
	t.lastSeries = len(out)
	return result{metrics: out}
}

// runScraper runs one scraper, appending its metrics to out. A panic (a
// parser bug meeting an odd reply) fails that collector, not the exporter;
// the metrics it sent before are kept, as a failed collector's are.
func runScraper(s collector.Scraper, r *collector.Replies, logger log.Logger, out *[]prometheus.Metric) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("collector panicked: %v", p)
		}
	}()
	return s.Scrape(r, func(m prometheus.Metric) { *out = append(*out, m) }, logger)
}

// fetch executes the plan in one round trip. A second one is needed only
// when this INFO reveals a server the plan did not fit: a first scrape whose
// scrapers want version-specific requests, or a restart into another version.
func (t *Target) fetch(ctx context.Context) (*collector.Replies, error) {
	facts := t.cachedFacts()
	p := t.plan(facts)
	if err := p.Err(); err != nil {
		return nil, err
	}
	replies, err := t.execute(ctx, p, p.Calls())
	if err != nil {
		return nil, err
	}
	// Plans depend only on the facts and the target's state, so the plan is
	// rebuilt only when this INFO changed the facts (first scrape, restart,
	// failover), not on every scrape.
	if newFacts := replies.Facts(); newFacts.Known && newFacts != facts {
		t.setFacts(newFacts)
		downgraded := collector.EncodingFor(facts) == collector.EncodingModern && collector.EncodingFor(newFacts) != collector.EncodingModern
		if next := t.plan(newFacts); downgraded || !p.Covers(next) {
			level.Debug(t.logger).Log("msg", "server differs from the cached facts: planning again", "version", newFacts.Server.Version)
			replies.Release() // read no further: the new plan's replies replace them
			if replies, err = t.execute(ctx, next, next.Calls()); err != nil {
				return nil, err
			}
		}
	}
	return replies, t.followUp(ctx, replies)
}

// followUp sends, in one more round trip, the requests that depend on this
// scrape's replies, and merges their replies in. Nothing is sent when no
// scraper needs anything: the steady state.
func (t *Target) followUp(ctx context.Context, replies *collector.Replies) error {
	// A reused ACL LIST reply that this INFO shows outdated (an ACL change)
	// is read first: the scrapers plan their follow-ups (ACL DRYRUN of a
	// changed user) from the current list.
	if fp := replies.NewFollowUpPlan(); !fp.Empty() {
		more, err := t.execute(ctx, fp, fp.FollowUpCalls())
		if err != nil {
			return err
		}
		replies.Merge(more)
	}
	fp := replies.NewFollowUpPlan()
	for _, s := range t.scrapers {
		if f, ok := s.(collector.FollowUpPlanner); ok {
			f.FollowUp(replies, fp)
		}
	}
	if err := fp.Err(); err != nil {
		return err
	}
	if fp.Empty() {
		return nil
	}
	more, err := t.execute(ctx, fp, fp.FollowUpCalls())
	if err != nil {
		return err
	}
	replies.Merge(more)
	return nil
}

// execute sends the plan's calls in one pipeline.
func (t *Target) execute(ctx context.Context, p *collector.Plan, calls []collector.Call) (*collector.Replies, error) {
	pipe := t.client.Pipeline()
	cmds := make([]*redis.Cmd, len(calls))
	for i, c := range calls {
		cmds[i] = pipe.Do(ctx, c.Args...)
	}
	_, execErr := pipe.Exec(ctx)
	if execErr != nil {
		var authErr *AuthError
		if errors.As(execErr, &authErr) {
			return nil, authErr
		}
		if serverError(execErr) == "" {
			return nil, fmt.Errorf("redis unreachable: %w", execErr)
		}
		// A server error that no command carries came from the connection
		// handshake (HELLO/AUTH): nothing was sent.
		sent := false
		for _, c := range cmds {
			sent = sent || c.Err() != nil
		}
		if !sent {
			return nil, fmt.Errorf("connecting: %w", execErr)
		}
	}
	results := make([]collector.Result, len(calls))
	for i, c := range cmds {
		v, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
			results[i] = collector.Result{}
		case err != nil && serverError(err) != "":
			results[i] = collector.Result{Err: serverError(err)}
		case err != nil:
			return nil, fmt.Errorf("redis unreachable: %w", err)
		default:
			results[i] = collector.Result{Value: v}
		}
	}
	// An unauthenticated connection gets NOAUTH for everything; failed AUTH
	// during the handshake is reported on every command as WRONGPASS.
	var se collector.ServerError
	if len(results) > 0 && errors.As(results[0].Err, &se) {
		switch se.Code() {
		case "NOAUTH", "WRONGPASS":
			return nil, fmt.Errorf("authentication failed: %w", se)
		}
	}
	return collector.NewReplies(p, calls, results)
}

// serverError returns the server's error reply inside err ("" when err is a
// connection error). go-redis wraps handshake failures ("failed to
// authenticate: WRONGPASS ..."), so the reply is taken from the wrapped error.
func serverError(err error) collector.ServerError {
	var re redis.Error
	if errors.As(err, &re) {
		return collector.ServerError(re.Error())
	}
	return ""
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
