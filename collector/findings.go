package collector

import (
	"iter"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Severity ranks findings.
type Severity string

// Severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low}

// Rank orders severities: critical 4 ... low 1, unknown 0.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - i
		}
	}
	return 0
}

// ParseSeverity parses a severity name.
func ParseSeverity(s string) (Severity, bool) {
	for _, v := range Severities {
		if string(v) == strings.ToLower(s) {
			return v, true
		}
	}
	return "", false
}

// Check is one posture check, evaluated over the metrics of a scrape: every
// check reads what the collectors already report, so no logic is repeated.
type Check struct {
	ID          string
	Severity    Severity
	Title       string
	Remediation string
	// eval returns (failed, evaluated); evaluated is false when an input
	// was not collected (denied, older version, collector disabled): such a
	// check is left out rather than reported as passing.
	eval func(ix *index) (failed, evaluated bool)
	// objects, when set, names what a failing check is about (which users,
	// commands, CVEs ...). Only EvaluateWithObjects calls it: /metrics
	// keeps the objects in the per-object series, not on check_failed.
	objects func(ix *index) []Object
}

// Finding is the result of an evaluated check.
type Finding struct {
	// *Check, not a copy: a scrape's findings slice is a fifth of its size.
	*Check
	Failed bool
	// Objects are what the failing check is about; nil when it passed, has
	// no objects, or came from Evaluate.
	Objects []Object
}

var (
	checkFailedDesc = newDesc("check_failed",
		"One series per evaluated posture check: 1 = finding present. Checks whose inputs were not collected are absent.",
		"check", "severity")
	findingsDesc = newDesc("findings",
		"Number of failing checks per severity.", "severity")
)

// DescribeFindings sends the findings' Descs.
func DescribeFindings(ch chan<- *prometheus.Desc) {
	ch <- checkFailedDesc
	ch <- findingsDesc
}

// FindingMetrics turns findings into check_failed and findings series,
// through the target's memo (st may be nil).
func FindingMetrics(fs []Finding, st *State) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, len(fs)+len(Severities))
	var counts [5]int // by Rank
	for _, f := range fs {
		out = append(out, st.ConstMetric(checkFailedDesc, prometheus.GaugeValue, boolValue(f.Failed), f.ID, string(f.Severity)))
		if f.Failed {
			counts[f.Severity.Rank()]++
		}
	}
	if len(fs) > 0 {
		for _, s := range Severities {
			out = append(out, st.ConstMetric(findingsDesc, prometheus.GaugeValue, float64(counts[s.Rank()]), string(s)))
		}
	}
	return out
}

// Evaluate runs every check over the metrics of one scrape, in Checks order.
// It is what /metrics pays for: verdicts only, no objects.
func Evaluate(metrics []prometheus.Metric, now time.Time) []Finding {
	return evaluate(nil, metrics, now, false, nil)
}

// EvaluateScrape is Evaluate for a target's scrapes: st keeps what the
// index read from this scrape's metrics for the next one (see indexMemo),
// and the findings themselves. The result may be the previous scrape's
// slice: it must not be modified.
func EvaluateScrape(st *State, metrics []prometheus.Metric, now time.Time) []Finding {
	var memo *indexMemo
	if st != nil {
		memo = &st.index
	}
	return evaluate(memo, metrics, now, false, nil)
}

// EvaluateWithObjects is Evaluate plus, for every failing check, the objects
// it is about: what check and the landing page show. The objects are read
// from the same index, by the same check, after the verdict.
// vulns is the table the scrape's CVEs were matched against (for their
// fixed-in releases); nil is the embedded one.
func EvaluateWithObjects(metrics []prometheus.Metric, now time.Time, vulns *VulnerabilityTable) []Finding {
	return evaluate(nil, metrics, now, true, vulns)
}

func evaluate(memo *indexMemo, metrics []prometheus.Metric, now time.Time, objects bool, vulns *VulnerabilityTable) []Finding {
	if memo != nil && !objects && memo.unchanged(metrics, now) {
		return memo.findings
	}
	sc := indexScratchPool.Get().(*indexScratch)
	defer sc.release()
	ix := newIndexWith(memo, sc, metrics, now)
	ix.vulns = vulns
	out := make([]Finding, 0, len(Checks)) // grown by doubling, most of a scrape's findings bytes were spare room
	for i := range Checks {
		c := &Checks[i]
		failed, ok := c.eval(ix)
		if !ok {
			continue
		}
		f := Finding{Check: c, Failed: failed}
		if objects && failed && c.objects != nil {
			f.Objects = c.objects(ix)
		}
		out = append(out, f)
	}
	if memo != nil && memo.metrics != nil && !objects {
		memo.findings, memo.validUntil = out, verdictsValidUntil(ix)
	}
	return out
}

// unchanged reports whether every metric the checks read is the previous
// scrape's very object, at the same position, and no check's verdict can
// have changed with the time alone: the previous findings are then this
// scrape's. With a thousand ACL users that saves building the index of
// twelve thousand series, a quarter of a steady scrape's CPU. Positions
// whose metric the checks do not read may hold other objects; the memo
// takes them, so it keeps no superseded metric alive.
func (m *indexMemo) unchanged(metrics []prometheus.Metric, now time.Time) bool {
	if m.findings == nil || len(metrics) != len(m.metrics) || !now.Before(m.validUntil) {
		return false
	}
	var last *prometheus.Desc
	var lastWant bool
	for i, x := range metrics {
		prev := m.metrics[i]
		if isPointer(x) && x == prev {
			continue
		}
		if m.reads[i].ok {
			return false // a series the checks read was replaced
		}
		if d := x.Desc(); d != last {
			last, lastWant = d, descIndexOf(d).want
		}
		if lastWant {
			return false // a series the checks read took an unread one's place
		}
	}
	copy(m.metrics, metrics)
	return true
}

// verdictsValidUntil is when a verdict of this index can change with the
// time alone: the earliest moment a server certificate enters
// tls_certificate_expiring's warning window (the only check that reads the
// clock). Far in the future without such a certificate.
func verdictsValidUntil(ix *index) time.Time {
	until := ix.now.Add(100 * 365 * 24 * time.Hour)
	for _, s := range ix.series["tls_certificate_not_after_timestamp_seconds"] {
		warn := time.Unix(int64(s.value), 0).Add(-certificateExpiryWarning)
		if warn.After(ix.now) && warn.Before(until) {
			until = warn
		}
	}
	return until
}

// SortFindings orders failing first, then by severity and id.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Failed != fs[j].Failed {
			return fs[i].Failed
		}
		if fs[i].Severity.Rank() != fs[j].Severity.Rank() {
			return fs[i].Severity.Rank() > fs[j].Severity.Rank()
		}
		return fs[i].ID < fs[j].ID
	})
}

// sample is one series of the scrape. Its labels are the const metric's own
// (immutable) label pairs: a map per series cost more than the rest of the
// index at 1000 ACL users.
type sample struct {
	labels []*dto.LabelPair
	value  float64
	// user is the user label's value, which the per-user checks read for
	// thousands of series.
	user string
}

// label returns the value of label name ("" when absent).
func (s sample) label(name string) string {
	if name == "user" {
		return s.user
	}
	return s.scan(name)
}

func (s sample) scan(name string) string {
	for _, l := range s.labels {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// index holds the scrape's series by metric name (without the namespace).
type index struct {
	series map[string][]sample
	// present are the metrics the scrape emitted, also those indexedOnly
	// kept no series of.
	present map[string]bool
	now     time.Time
	// users memoises enabledUsers, which several checks read.
	users map[string]bool
	// vulns is the CVE table for the objects of known_vulnerabilities.
	vulns *VulnerabilityTable
}

func newIndex(metrics []prometheus.Metric, now time.Time) *index {
	return newIndexWith(nil, new(indexScratch), metrics, now)
}

// indexScratch holds an index and its building's buffers, reused by the
// next evaluation (an index does not outlive its evaluation).
type indexScratch struct {
	ix    index
	slots map[*descIndex]int
	order []*descIndex
	acc   []gathered
}

var indexScratchPool = sync.Pool{New: func() any { return new(indexScratch) }}

// release empties the scratch, keeping its capacity but no metric's labels.
func (sc *indexScratch) release() {
	clear(sc.ix.series)
	clear(sc.ix.present)
	sc.ix.users, sc.ix.vulns = nil, nil
	clear(sc.slots)
	clear(sc.order)
	sc.order = sc.order[:0]
	for i := range sc.acc {
		clear(sc.acc[i].samples)
		sc.acc[i].samples = sc.acc[i].samples[:0]
	}
	sc.acc = sc.acc[:0]
	indexScratchPool.Put(sc)
}

// indexMemo is what a target's index read from the previous scrape's
// metrics, position by position. Most series are the very objects of the
// previous scrape (the metric memo, the per-user caches), in the same
// order, and a const metric is immutable: at a position that holds the same
// object, the index takes what it read then instead of writing the metric
// again. With a thousand users that is twelve thousand Writes and label
// lookups a scrape, each a few cache misses. It is kept only for scrapes
// of at least indexMemoMin series: below that, reading costs less than the
// memory a pooled target would keep.
type indexMemo struct {
	metrics []prometheus.Metric
	reads   []metricRead
	// spare is the previous reads' slice, reused by the next scrape.
	spare []metricRead
	// findings are the verdicts of metrics, valid before validUntil (see
	// unchanged).
	findings   []Finding
	validUntil time.Time
}

// gathered are one Desc's samples in one evaluation.
type gathered struct {
	present bool
	samples []sample
}

// indexMemoMin is the smallest scrape whose reads are memoised (a default
// scrape has about 300 series; 100 users about 1,500).
const indexMemoMin = 1000

// descIndex is what the index does with a Desc's series: decided once
// per Desc, for every target (Descs are immutable and package-level).
type descIndex struct {
	name    string
	want    bool
	only    [2]string
	hasOnly bool
}

var descIndexes sync.Map // *prometheus.Desc -> *descIndex

func descIndexOf(d *prometheus.Desc) *descIndex {
	if v, ok := descIndexes.Load(d); ok {
		return v.(*descIndex)
	}
	di := &descIndex{name: shortName(d)}
	di.want = indexed[di.name]
	di.only, di.hasOnly = indexedOnly[di.name]
	descIndexes.Store(d, di)
	return di
}

// metricRead is what the index read from one metric.
type metricRead struct {
	di *descIndex
	s  sample
	ok bool // a gauge or counter the checks read
}

func newIndexWith(memo *indexMemo, sc *indexScratch, metrics []prometheus.Metric, now time.Time) *index {
	if sc.ix.series == nil {
		sc.ix.series, sc.ix.present, sc.slots = map[string][]sample{}, map[string]bool{}, map[*descIndex]int{}
	}
	ix := &sc.ix
	ix.now = now
	if memo != nil && len(metrics) < indexMemoMin {
		*memo = indexMemo{}
		memo = nil
	}
	var reads []metricRead
	var prev []prometheus.Metric
	var prevReads []metricRead
	if memo != nil {
		prev, prevReads = memo.metrics, memo.reads
		reads = slices.Grow(memo.spare[:0], len(metrics))[:len(metrics)]
	}
	acc, order, slots := sc.acc[:0], sc.order[:0], sc.slots
	lastSlot := -1
	// One dto.Metric for every Write: a sample keeps only the label slice,
	// which Write takes from the const metric rather than copying.
	var pb dto.Metric
	var last *prometheus.Desc
	var di *descIndex
	for i, m := range metrics {
		var r metricRead
		if i < len(prev) && isPointer(m) && prev[i] == m {
			r = prevReads[i]
		} else {
			if d := m.Desc(); d != last || di == nil {
				last, di = d, descIndexOf(d)
			}
			r = readMetric(m, di, &pb)
		}
		if reads != nil {
			reads[i] = r
		}
		if !r.ok {
			continue // only what the checks read: a scrape may have thousands of series
		}
		d := r.di
		slot := lastSlot
		if slot < 0 || order[slot] != d {
			var ok bool
			if slot, ok = slots[d]; !ok {
				slot = len(order)
				slots[d] = slot
				order = append(order, d)
				if len(acc) < cap(acc) {
					acc = acc[:len(acc)+1]
					acc[slot] = gathered{samples: acc[slot].samples[:0]}
				} else {
					acc = append(acc, gathered{})
				}
			}
		}
		lastSlot = slot
		g := &acc[slot]
		g.present = true
		if d.hasOnly && r.s.label(d.only[0]) != d.only[1] {
			continue
		}
		g.samples = append(g.samples, r.s)
	}
	for i, d := range order {
		if acc[i].present {
			ix.present[d.name] = true
		}
		if len(acc[i].samples) > 0 {
			if prior, ok := ix.series[d.name]; ok {
				ix.series[d.name] = append(prior[:len(prior):len(prior)], acc[i].samples...)
			} else {
				ix.series[d.name] = acc[i].samples
			}
		}
	}
	sc.order, sc.acc = order, acc
	if memo != nil {
		memo.metrics = append(memo.metrics[:0], metrics...)
		clear(prevReads) // the spare half must not keep label slices alive
		memo.reads, memo.spare = reads, prevReads
	}
	return ix
}

// readMetric reads what the index keeps of m (a gauge or counter of a Desc
// the checks read), through pb.
func readMetric(m prometheus.Metric, di *descIndex, pb *dto.Metric) metricRead {
	r := metricRead{di: di}
	if !di.want {
		return r
	}
	if mm, ok := m.(*memoMetric); ok {
		// The memo's own metric: read without Write (which allocates the
		// value it sets).
		r.s = sample{labels: mm.labels.pairs, value: mm.value}
		r.ok = mm.typ == prometheus.GaugeValue || mm.typ == prometheus.CounterValue
	} else {
		pb.Reset()
		if err := m.Write(pb); err != nil {
			return r
		}
		r.s = sample{labels: pb.Label}
		switch {
		case pb.Gauge != nil:
			r.s.value, r.ok = pb.GetGauge().GetValue(), true
		case pb.Counter != nil:
			r.s.value, r.ok = pb.GetCounter().GetValue(), true
		}
	}
	r.s.user = r.s.scan("user")
	return r
}

// isPointer reports whether m's dynamic type is a pointer, whose interface
// values compare without panicking (every metric client_golang builds is).
func isPointer(m prometheus.Metric) bool {
	return reflect.TypeOf(m).Kind() == reflect.Pointer
}

// shortNames memoises shortName: thousands of series share a few dozen
// Descs, and descName formats the whole Desc (Desc.String()) to find the
// name, which cost a tenth of a default scrape's CPU when done per scrape.
// Descs are immutable and package-level, so an entry never goes stale.
var shortNames sync.Map // *prometheus.Desc -> string

// shortName is the Desc's metric name without the namespace.
func shortName(d *prometheus.Desc) string {
	if v, ok := shortNames.Load(d); ok {
		return v.(string)
	}
	name := strings.TrimPrefix(descName(d), Namespace+"_")
	shortNames.Store(d, name)
	return name
}

// descName extracts a Desc's fully-qualified name. client_golang offers no
// accessor; its String() form is stable ("Desc{fqName: \"...\", ...").
func descName(d *prometheus.Desc) string {
	s := d.String()
	const marker = `fqName: "`
	i := strings.Index(s, marker)
	if i < 0 {
		return ""
	}
	s = s[i+len(marker):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}

// value returns the single series of a metric whose labels match.
func (ix *index) value(name string, match ...string) (float64, bool) {
	for _, s := range ix.series[name] {
		if labelsMatch(s, match) {
			return s.value, true
		}
	}
	return 0, false
}

// each returns every series of a metric (read only).
func (ix *index) each(name string) []sample {
	return ix.series[name] // read only: no copy
}

// matching yields the series of name whose labels match (label, value
// pairs), without collecting them: checks run every scrape, and a filtered
// copy per check was a tenth of the findings' allocations.
func (ix *index) matching(name string, match ...string) iter.Seq[sample] {
	return func(yield func(sample) bool) {
		for _, s := range ix.series[name] {
			if labelsMatch(s, match) && !yield(s) {
				return
			}
		}
	}
}

func (ix *index) has(name string) bool { return ix.present[name] }

func labelsMatch(s sample, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if s.label(match[i]) != match[i+1] {
			return false
		}
	}
	return true
}

// is1 evaluates "metric == 1".
func is1(name string, match ...string) func(*index) (bool, bool) {
	return func(ix *index) (bool, bool) {
		v, ok := ix.value(name, match...)
		return v == 1, ok
	}
}

// is0 evaluates "metric == 0".
func is0(name string, match ...string) func(*index) (bool, bool) {
	return func(ix *index) (bool, bool) {
		v, ok := ix.value(name, match...)
		return v == 0, ok
	}
}

// enabledUsers returns the names of enabled ACL users.
func (ix *index) enabledUsers() (map[string]bool, bool) {
	if !ix.has("acl_user_enabled") {
		return nil, false
	}
	if ix.users != nil {
		return ix.users, true
	}
	out := map[string]bool{}
	for _, s := range ix.series["acl_user_enabled"] {
		if s.value == 1 {
			out[s.label("user")] = true
		}
	}
	ix.users = out
	return out, true
}

// anyEnabledUser evaluates "some enabled user (other than skip) has metric == 1".
func anyEnabledUser(name, skip string, match ...string) func(*index) (bool, bool) {
	return func(ix *index) (bool, bool) {
		users, ok := ix.enabledUsers()
		if !ok || !ix.has(name) {
			return false, false
		}
		for s := range ix.matching(name, match...) {
			if s.value == 1 && users[s.label("user")] && s.label("user") != skip {
				return true, true
			}
		}
		return false, true
	}
}

// whenTLS evaluates f only when TLS is on.
func whenTLS(f func(*index) (bool, bool)) func(*index) (bool, bool) {
	return func(ix *index) (bool, bool) {
		tls, ok := ix.value("tls_enabled")
		if !ok {
			return false, false
		}
		if tls != 1 {
			return false, false // not applicable: tls_disabled covers it
		}
		return f(ix)
	}
}

// certificateExpiryWarning is how early tls_certificate_expiring fires.
const certificateExpiryWarning = 14 * 24 * time.Hour

// Checks is every posture check, in report order. IDs are stable: alerts,
// dashboards and users' silences refer to them.
var Checks = []Check{
	{ID: "exposed_without_auth", objects: remoteListeners, Severity: Critical,
		Title:       "Reachable beyond loopback and usable without a password",
		Remediation: "Give the default user a password (ACL SETUSER default on resetpass >PASSWORD, or requirepass) or turn it off (user default off), keep protected-mode yes, and bind only the private addresses clients use (bind 10.0.0.5 127.0.0.1 -::1).",
		eval:        is1("exposed_without_auth")},
	{ID: "lua_sandbox_escape", Severity: Critical,
		Title:       "Lua scripts can reach the package library (CVE-2022-0543: remote code execution)",
		Remediation: "Upgrade the distribution's redis package (Debian/Ubuntu fixed CVE-2022-0543 in 2022); until then deny scripting to everyone: ACL SETUSER <user> -@scripting.",
		eval:        is1("lua_package_exposed")},
	{ID: "persistence_path_suspicious", objects: persistencePathObjects, Severity: Critical,
		Title:       "dir/dbfilename point where a dump becomes code or a login (the CONFIG SET dir attack)",
		Remediation: "Restore dir and dbfilename (dir /var/lib/redis, dbfilename dump.rdb), find who changed them (ACL LOG, CONFIG SET in MONITOR/audit logs), keep enable-protected-configs no and deny +config|set to applications (-@dangerous).",
		eval:        is1("persistence_path_suspicious")},
	{ID: "default_user_nopass", objects: func(*index) []Object { return []Object{{Kind: "user", Name: "default"}} }, Severity: High,
		Title:       "The default user accepts any connection without a password",
		Remediation: "ACL SETUSER default resetpass >PASSWORD (or requirepass PASSWORD), or user default off and named users for every client.",
		eval: func(ix *index) (bool, bool) {
			v, ok := ix.value("auth_required")
			return v == 0, ok
		}},
	{ID: "user_nopass", objects: enabledUserObjects("acl_user_nopass", "default"), Severity: High,
		Title:       "An enabled ACL user accepts any password",
		Remediation: "ACL SETUSER <user> resetpass >PASSWORD for each user with nopass, or turn the user off.",
		eval:        anyEnabledUser("acl_user_nopass", "default")},
	{ID: "user_weak_password", objects: enabledUserObjects("acl_user_weak_password", ""), Severity: High,
		Title:       "An enabled ACL user has a weak or default password",
		Remediation: "ACL SETUSER <user> resetpass >LONG-RANDOM-PASSWORD (32+ random characters); default passwords such as foobared are the first ones tried.",
		eval:        anyEnabledUser("acl_user_weak_password", "")},
	{ID: "dangerous_command_default_user", objects: func(ix *index) []Object { return objectsOf(ix, "command", "command_allowed", "command", nil) }, Severity: High,
		Title:       "The default user may run dangerous commands",
		Remediation: "ACL SETUSER default -@dangerous (or user default off) and give administrators a named user.",
		eval: func(ix *index) (bool, bool) {
			if !ix.has("command_allowed") {
				return false, false
			}
			for s := range ix.matching("command_allowed", "user", "default") {
				if s.value == 1 {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "unixsocket_world_accessible", objects: unixListeners, Severity: High,
		Title:       "Every local user may connect through the unix socket",
		Remediation: "unixsocketperm 770 (or 700) and put the clients in the socket's group.",
		eval:        is1("unixsocket_world_accessible")},
	{ID: "tls_weak_protocol", objects: weakProtocolObjects, Severity: High,
		Title:       "TLS 1.0 or 1.1 is accepted",
		Remediation: "tls-protocols \"TLSv1.2 TLSv1.3\".",
		eval: whenTLS(func(ix *index) (bool, bool) {
			if !ix.has("tls_protocol_enabled") {
				return false, false
			}
			v1, _ := ix.value("tls_protocol_enabled", "protocol", "TLSv1")
			v11, _ := ix.value("tls_protocol_enabled", "protocol", "TLSv1.1")
			return v1 == 1 || v11 == 1, true
		})},
	{ID: "tls_certificate_expiring", objects: expiringCertificateObjects, Severity: High,
		Title:       "The server's TLS certificate expires within 14 days",
		Remediation: "Renew the certificate and load it: CONFIG SET tls-cert-file /path/new.crt (and tls-key-file) reloads without a restart.",
		eval: func(ix *index) (bool, bool) {
			ss := ix.each("tls_certificate_not_after_timestamp_seconds")
			if len(ss) == 0 {
				return false, false
			}
			limit := float64(ix.now.Add(certificateExpiryWarning).Unix())
			for _, s := range ss {
				if s.value < limit {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "known_vulnerabilities", objects: vulnerabilityObjects, Severity: High,
		Title:       "The server's version has known vulnerabilities (an upper bound: distributions backport fixes)",
		Remediation: "Upgrade to the latest patch release of the branch (see redis_security_vulnerability for the CVEs); if the distribution backports fixes, check its advisories.",
		eval: func(ix *index) (bool, bool) {
			ss := ix.each("known_vulnerabilities")
			if len(ss) == 0 {
				return false, false
			}
			for _, s := range ss {
				if s.value > 0 {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "bind_all_interfaces", objects: wildcardListeners, Severity: Medium,
		Title:       "Listens on every network interface",
		Remediation: "bind 127.0.0.1 -::1 plus the private addresses clients use, instead of bind * -::* or 0.0.0.0.",
		eval:        is1("bind_all_interfaces")},
	{ID: "protected_mode_disabled", Severity: Medium,
		Title:       "Protected mode is off",
		Remediation: "protected-mode yes: remote clients are then refused whenever the default user has no password.",
		eval:        is0("protected_mode_enabled")},
	{ID: "tls_disabled", objects: remotePlaintextListeners, Severity: Medium,
		Title:       "Reachable beyond loopback without TLS",
		Remediation: "tls-port 6379, port 0, tls-cert-file, tls-key-file, tls-ca-cert-file; clients connect with rediss://.",
		eval: func(ix *index) (bool, bool) {
			tls, ok1 := ix.value("tls_enabled")
			remote, ok2 := ix.value("bind_non_loopback")
			if !ok1 || !ok2 {
				return false, false
			}
			return tls == 0 && remote == 1, true
		}},
	{ID: "plaintext_port_with_tls", objects: plaintextListeners, Severity: Medium,
		Title:       "TLS is on but the plaintext port is still open",
		Remediation: "port 0, so that only tls-port accepts clients.",
		eval: whenTLS(func(ix *index) (bool, bool) {
			v, ok := ix.value("plaintext_enabled")
			return v == 1, ok
		})},
	{ID: "user_shared_password", objects: enabledUserObjects("acl_user_shared_password", ""), Severity: Medium,
		Title:       "Two ACL users share a password",
		Remediation: "Give every user its own password (ACL SETUSER <user> resetpass >PASSWORD): a shared one cannot be rotated or revoked for one client.",
		eval:        anyEnabledUser("acl_user_shared_password", "")},
	{ID: "debug_command_enabled", objects: settingObject("enable-debug-command", "yes"), Severity: Medium,
		Title:       "DEBUG is enabled for every connection",
		Remediation: "enable-debug-command no (or local).",
		eval:        is1("enable_config", "setting", "enable-debug-command", "value", "yes")},
	{ID: "module_command_enabled", objects: settingObject("enable-module-command", "yes"), Severity: Medium,
		Title:       "MODULE LOAD is enabled for every connection",
		Remediation: "enable-module-command no (or local); load modules with loadmodule in redis.conf.",
		eval:        is1("enable_config", "setting", "enable-module-command", "value", "yes")},
	{ID: "protected_configs_enabled", objects: settingObject("enable-protected-configs", "yes"), Severity: Medium,
		Title:       "Protected configs (dir, dbfilename ...) may be changed at run time",
		Remediation: "enable-protected-configs no (or local).",
		eval:        is1("enable_config", "setting", "enable-protected-configs", "value", "yes")},
	{ID: "version_end_of_life", objects: versionObjects, Severity: Medium,
		Title:       "The release branch gets no more security fixes",
		Remediation: "Upgrade to a supported release branch.",
		eval:        is1("version_end_of_life")},
	{ID: "replica_writable", Severity: Medium,
		Title:       "This replica accepts writes",
		Remediation: "replica-read-only yes.",
		eval: func(ix *index) (bool, bool) {
			ro, ok := ix.value("replica_read_only")
			if !ok || len(ix.each("server_info")) == 0 {
				return false, false
			}
			if _, replica := ix.value("server_info", "role", "replica"); !replica {
				return false, false // not a replica: not applicable
			}
			return ro == 0, true
		}},
	{ID: "tls_client_auth_not_required", Severity: Low,
		Title:       "TLS clients need no certificate",
		Remediation: "tls-auth-clients yes (with tls-ca-cert-file), so that only clients with a certificate may connect.",
		eval: whenTLS(func(ix *index) (bool, bool) {
			if !ix.has("tls_client_auth") {
				return false, false
			}
			v, _ := ix.value("tls_client_auth", "mode", "yes")
			return v != 1, true
		})},
	// Valkey 9: with tls-auth-clients-user CN or URI, a client whose
	// certificate the CA signed is logged in as the user that field names,
	// without AUTH: whoever may get a certificate issued with CN=admin is
	// admin. Deliberate in some fleets, so low; TLS off: not applicable.
	{ID: "tls_certificate_user_login", objects: certificateUserFieldObjects, Severity: Low,
		Title:       "A verified TLS client certificate logs in as the ACL user its CN or URI names, without a password (Valkey 9 tls-auth-clients-user)",
		Remediation: "tls-auth-clients-user off, unless tls-ca-cert-file is a CA that issues client certificates only for the ACL users they name; keep passwords on users that certificates must not reach.",
		eval: whenTLS(func(ix *index) (bool, bool) {
			if !ix.has("tls_client_certificate_user_field") {
				return false, false
			}
			off, _ := ix.value("tls_client_certificate_user_field", "field", "off")
			return off != 1, true
		})},
	{ID: "user_unrestricted", objects: unrestrictedUserObjects, Severity: Low,
		Title:       "An enabled ACL user other than default may run every command on every key",
		Remediation: "Give application users only the commands and keys they need (ACL SETUSER app -@all +get +set ~app:*); keep +@all ~* for administrators.",
		eval: func(ix *index) (bool, bool) {
			users, ok := ix.enabledUsers()
			if !ok || !ix.has("acl_user_unrestricted") {
				return false, false
			}
			// One pass over both scopes (a thousand users' series): the
			// scopes an enabled user other than default has unrestricted.
			const keys, commands = 1, 2
			scopes := map[string]uint8{}
			for _, s := range ix.series["acl_user_unrestricted"] {
				if s.value != 1 || !users[s.user] || s.user == "default" {
					continue
				}
				switch s.scan("scope") {
				case "keys":
					scopes[s.user] |= keys
				case "commands":
					scopes[s.user] |= commands
				}
				if scopes[s.user] == keys|commands {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "dangerous_commands_available", objects: func(ix *index) []Object { return objectsOf(ix, "command", "command_available", "command", nil) }, Severity: Low,
		Title:       "Dangerous commands exist under their own names",
		Remediation: "Deny them by ACL to every user that does not need them (-@dangerous); rename-command is deprecated in favour of ACL rules.",
		eval: func(ix *index) (bool, bool) {
			ss := ix.each("command_available")
			if len(ss) == 0 {
				return false, false
			}
			for _, s := range ss {
				if s.value == 1 {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "output_buffer_unlimited", objects: unlimitedClientClassObjects, Severity: Low,
		Title:       "A client class has no output buffer limit",
		Remediation: "client-output-buffer-limit normal 256mb 128mb 60 (and limits for replica and pubsub), so one slow or greedy client cannot exhaust memory.",
		eval: func(ix *index) (bool, bool) {
			ss := ix.each("client_output_buffer_limit_bytes")
			if len(ss) == 0 {
				return false, false
			}
			limits := map[string]float64{}
			for _, s := range ss {
				limits[s.label("class")] += s.value
			}
			for _, total := range limits {
				if total == 0 {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "no_idle_timeout", Severity: Low,
		Title:       "Idle clients are never disconnected",
		Remediation: "timeout 300 (seconds), so abandoned connections do not pile up towards maxclients.",
		eval:        is0("idle_timeout_seconds")},
	{ID: "maxmemory_unlimited", Severity: Low,
		Title:       "No memory limit",
		Remediation: "maxmemory (e.g. 75% of the host's memory) with a maxmemory-policy, and maxmemory-clients.",
		eval:        is0("maxmemory_bytes")},
	// Valkey 8.1+ only (elsewhere the metric is absent: not evaluated).
	{ID: "commandlog_disabled", objects: disabledCommandLogObjects, Severity: Low,
		Title:       "A COMMANDLOG type (slow commands, large requests, large replies) logs nothing (Valkey 8.1+)",
		Remediation: "commandlog-execution-slower-than 10000, commandlog-request-larger-than 1048576 and commandlog-reply-larger-than 1048576 (the defaults: not negative), each type's commandlog-*-max-len 128, so that stalls, oversized payloads and bulk reads leave a trace with the client's address.",
		eval: func(ix *index) (bool, bool) {
			ss := ix.each("commandlog_enabled")
			if len(ss) == 0 {
				return false, false
			}
			for _, s := range ss {
				if s.value == 0 {
					return true, true
				}
			}
			return false, true
		}},
	{ID: "acl_log_disabled", Severity: Low,
		Title:       "ACL LOG keeps no entries",
		Remediation: "acllog-max-len 128 (or more on busy servers), so failed AUTH and denials can be seen.",
		eval:        is0("acl_log_max_length")},
}

// indexedOnly narrows a metric of indexed to the series the checks read:
// command_allowed has one series per command and user (26,000 at 1000
// users), of which the checks read the default user's only.
var indexedOnly = map[string][2]string{
	"command_allowed": {"user", "default"},
}

// indexed are the metrics the checks read.
var indexed = map[string]bool{
	"exposed_without_auth": true, "persistence_path_suspicious": true, "auth_required": true,
	"acl_user_enabled": true, "acl_user_nopass": true, "acl_user_weak_password": true,
	"acl_user_shared_password": true, "acl_user_unrestricted": true, "command_allowed": true,
	"command_available": true, "unixsocket_world_accessible": true, "tls_enabled": true,
	"tls_protocol_enabled": true, "tls_certificate_not_after_timestamp_seconds": true,
	"known_vulnerabilities": true, "bind_all_interfaces": true, "bind_non_loopback": true,
	"protected_mode_enabled": true, "plaintext_enabled": true, "enable_config": true,
	"version_end_of_life": true, "replica_read_only": true, "server_info": true,
	"tls_client_auth": true, "tls_client_certificate_user_field": true, "client_output_buffer_limit_bytes": true, "idle_timeout_seconds": true,
	"maxmemory_bytes": true, "acl_log_max_length": true, "lua_package_exposed": true, "commandlog_enabled": true,
	// Read only for objects; a handful of series per scrape.
	"vulnerability": true, "listener": true, "persistence_path_info": true, "commandlog_max_length": true,
}
