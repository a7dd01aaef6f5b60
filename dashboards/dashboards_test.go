package dashboards_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v2"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// The dashboards, by file name; the file name is the uid plus ".json".
var dashboardTitles = map[string]string{
	"redis-security-fleet.json":    "Redis Security / Fleet",
	"redis-security-instance.json": "Redis Security / Instance",
}

// pendingMetrics are metrics of the metric contract that a later issue adds to
// the exporter and that the dashboards already query (their panels stay empty
// until then). TestDashboardQueries fails when one of them is emitted
// already: remove it from this list in the change that adds it.
var pendingMetrics = map[string]int{}

// contractMetrics is the metric contract of the project (design/metrics.md):
// every metric name with its label names. Copied here because the tests only
// read the repository; a pending metric must be part of it.
var contractMetrics = map[string][]string{
	"redis_security_up":                                          nil,
	"redis_security_scrape_duration_seconds":                     nil,
	"redis_security_scrape_collector_success":                    {"collector"},
	"redis_security_scrape_collector_duration_seconds":           {"collector"},
	"redis_security_scrape_command_denied":                       {"command"},
	"redis_security_exporter_build_info":                         {"version", "revision", "branch", "goversion"},
	"redis_security_server_info":                                 {"flavor", "version", "role", "mode"},
	"redis_security_vulnerability":                               {"cve", "severity"},
	"redis_security_known_vulnerabilities":                       {"severity"},
	"redis_security_version_end_of_life":                         nil,
	"redis_security_auth_required":                               nil,
	"redis_security_acl_users":                                   {"enabled"},
	"redis_security_acl_user_enabled":                            {"user"},
	"redis_security_acl_user_nopass":                             {"user"},
	"redis_security_acl_user_unrestricted":                       {"user", "scope"},
	"redis_security_acl_user_weak_password":                      {"user"},
	"redis_security_acl_user_shared_password":                    {"user"},
	"redis_security_auth_failures_total":                         nil,
	"redis_security_acl_denied_total":                            {"reason"},
	"redis_security_error_replies_total":                         {"error"},
	"redis_security_acl_log_events_total":                        {"reason", "username"},
	"redis_security_acl_log_entries":                             {"reason"},
	"redis_security_acl_log_last_event_timestamp_seconds":        {"reason"},
	"redis_security_acl_log_lost_events_total":                   nil,
	"redis_security_acl_log_source_events":                       {"reason", "source"},
	"redis_security_rejected_connections_total":                  nil,
	"redis_security_connections_received_total":                  nil,
	"redis_security_listener":                                    {"transport", "address", "port"},
	"redis_security_bind_all_interfaces":                         nil,
	"redis_security_bind_non_loopback":                           nil,
	"redis_security_protected_mode_enabled":                      nil,
	"redis_security_exposed_without_auth":                        nil,
	"redis_security_unixsocket_permissions":                      nil,
	"redis_security_unixsocket_world_accessible":                 nil,
	"redis_security_tls_enabled":                                 nil,
	"redis_security_plaintext_enabled":                           nil,
	"redis_security_tls_client_auth":                             {"mode"},
	"redis_security_tls_protocol_enabled":                        {"protocol"},
	"redis_security_tls_replication_enabled":                     nil,
	"redis_security_tls_cluster_enabled":                         nil,
	"redis_security_tls_certificate_not_after_timestamp_seconds": {"subject", "serial"},
	"redis_security_tls_connection_info":                         {"version", "cipher"},
	"redis_security_clients":                                     {"transport", "network", "user"},
	"redis_security_client_list_skipped":                         nil,
	"redis_security_command_available":                           {"command"},
	"redis_security_command_allowed":                             {"user", "command"},
	"redis_security_command_allowed_users":                       {"command"},
	"redis_security_enable_config":                               {"setting", "value"},
	"redis_security_client_output_buffer_limit_bytes":            {"class", "limit"},
	"redis_security_client_output_buffer_limit_soft_seconds":     {"class"},
	"redis_security_client_query_buffer_limit_bytes":             nil,
	"redis_security_proto_max_bulk_len_bytes":                    nil,
	"redis_security_idle_timeout_seconds":                        nil,
	"redis_security_tcp_keepalive_seconds":                       nil,
	"redis_security_maxclients":                                  nil,
	"redis_security_connected_clients":                           nil,
	"redis_security_maxmemory_bytes":                             nil,
	"redis_security_maxmemory_clients_bytes":                     nil,
	"redis_security_client_recent_max_buffer_bytes":              {"buffer"},
	"redis_security_client_buffer_limit_disconnections_total":    {"buffer"},
	"redis_security_evicted_clients_total":                       nil,
	"redis_security_persistence_path_info":                       {"dir", "dbfilename"},
	"redis_security_persistence_path_suspicious":                 nil,
	"redis_security_module_info":                                 {"name", "version"},
	"redis_security_replication_source_info":                     {"master_host", "master_port"},
	"redis_security_lua_package_exposed":                         nil,
	"redis_security_check_failed":                                {"check", "severity"},
	"redis_security_findings":                                    {"severity"},
}

// targetLabels are added by Prometheus to every series of a scrape.
var targetLabels = []string{"job", "instance"}

// emittedMetrics returns every metric the exporter can emit with its label
// names: the Descs of every collector and of the target's scrape health, and
// redis_security_exporter_build_info (registered by main).
func emittedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	var scrapers []collector.Scraper
	for _, e := range collector.All(collector.DefaultOptions()) {
		scrapers = append(scrapers, e.Scraper)
	}
	tg, err := exporter.NewTarget(exporter.Options{Address: exporter.Address{Network: "tcp", Addr: "127.0.0.1:1"}, Scrapers: scrapers})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ch := make(chan *prometheus.Desc, 256)
	go func() { tg.Describe(ch); close(ch) }()
	out := map[string][]string{"redis_security_exporter_build_info": {"version", "revision", "branch", "goversion"}}
	for d := range ch {
		name, lbls := parseDesc(t, d)
		out[name] = lbls
	}
	return out
}

// parseDesc extracts fqName and the variable label names from a Desc's
// String(), the only public way.
func parseDesc(t *testing.T, d *prometheus.Desc) (string, []string) {
	s := d.String()
	m := regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`).FindStringSubmatch(s)
	i := strings.LastIndex(s, "variableLabels: {")
	if m == nil || i < 0 {
		t.Fatalf("cannot parse %s", s)
	}
	v := s[i+len("variableLabels: {"):]
	v = v[:strings.IndexByte(v, '}')]
	if v == "" {
		return m[1], nil
	}
	return m[1], strings.Split(v, ",")
}

// dashboardFile is one dashboard JSON file, decoded.
type dashboardFile struct {
	name string
	raw  []byte
	root map[string]any
}

func loadDashboards(t *testing.T) []dashboardFile {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []dashboardFile
	seen := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var root map[string]any
		if err := json.Unmarshal(raw, &root); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seen[f] = true
		out = append(out, dashboardFile{name: f, raw: raw, root: root})
	}
	for f := range dashboardTitles {
		if !seen[f] {
			t.Errorf("dashboard %s is missing", f)
		}
	}
	for f := range seen {
		if _, ok := dashboardTitles[f]; !ok {
			t.Errorf("%s is not a known dashboard: add it to dashboardTitles (and to docs/dashboards.md)", f)
		}
	}
	return out
}

// query is one PromQL expression of a dashboard with where it comes from.
type query struct {
	where    string
	expr     string
	legend   string // legendFormat, titleFormat/textFormat of annotations
	variable bool   // from a template variable: may not filter by $job/$instance
}

var wantDatasource = map[string]any{"type": "prometheus", "uid": "${datasource}"}

// Grafana unit ids the dashboards may use (a typo renders the raw number).
var knownUnits = map[string]bool{
	"none": true, "short": true, "percent": true, "percentunit": true, "string": true,
	"s": true, "ms": true, "m": true, "h": true, "d": true, "dtdurations": true, "dtdurationms": true,
	"bytes": true, "decbytes": true, "bits": true,
	"cps": true, "ops": true, "reqps": true, "cpm": true, "opm": true,
	"dateTimeAsIso": true, "dateTimeAsSystem": true, "dateTimeFromNow": true,
}

var knownPanelTypes = map[string]bool{
	"row": true, "stat": true, "table": true, "timeseries": true, "state-timeline": true, "bargauge": true,
	"gauge": true, "piechart": true, "status-history": true,
}

type gridBox struct {
	where      string
	x, y, w, h int
}

// TestDashboardsLint checks the rules every bundled dashboard follows (issue
// 7): fixed uid, id null, schemaVersion >= 39, the datasource/job/instance
// variables, every panel and query on ${datasource}, no __inputs, units,
// descriptions, a sane grid, and consistent table transformations.
func TestDashboardsLint(t *testing.T) {
	uids := map[string]string{}
	for _, d := range loadDashboards(t) {
		lintDashboard(t, d, uids)
	}
}

func lintDashboard(t *testing.T, d dashboardFile, uids map[string]string) {
	errorf := func(format string, args ...any) { t.Errorf(d.name+": "+format, args...) }
	root := d.root

	if _, ok := root["__inputs"]; ok {
		errorf("has __inputs: export the dashboard without \"Export for sharing externally\"")
	}
	if bytes.Contains(d.raw, []byte("${DS_")) {
		errorf("refers to an import-time datasource input (${DS_...}); use ${datasource}")
	}
	if id, ok := root["id"]; !ok || id != nil {
		errorf(`"id" must be present and null, got %v`, id)
	}
	uid, _ := root["uid"].(string)
	if want := strings.TrimSuffix(d.name, ".json"); uid != want {
		errorf("uid %q, want %q (the file name)", uid, want)
	}
	if len(uid) > 40 || !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(uid) {
		errorf("uid %q must be at most 40 characters of [a-z0-9-]", uid)
	}
	if other, dup := uids[uid]; dup {
		errorf("uid %q is also the uid of %s", uid, other)
	}
	uids[uid] = d.name
	if title, _ := root["title"].(string); title != dashboardTitles[d.name] {
		errorf("title %q, want %q", title, dashboardTitles[d.name])
	}
	if v, _ := root["schemaVersion"].(float64); v < 39 {
		errorf("schemaVersion %v, want 39 or later", root["schemaVersion"])
	}
	if desc, _ := root["description"].(string); desc == "" {
		errorf("has no description")
	}

	// Variables.
	vars := map[string]map[string]any{}
	for _, v := range list(root, "templating", "list") {
		name, _ := v["name"].(string)
		vars[name] = v
		if ds, ok := v["datasource"]; ok && !sameJSON(ds, wantDatasource) {
			errorf("variable %s: datasource %v, want %v", name, ds, wantDatasource)
		}
	}
	if v := vars["datasource"]; v == nil || v["type"] != "datasource" || v["query"] != "prometheus" {
		errorf(`needs a variable "datasource" of type datasource and query prometheus, got %v`, v)
	}
	for name, want := range map[string]string{
		"job":      "label_values(redis_security_up, job)",
		"instance": `label_values(redis_security_up{job=~"$job"}, instance)`,
	} {
		v := vars[name]
		if v == nil || v["type"] != "query" {
			errorf("needs a query variable %q", name)
			continue
		}
		q, _ := v["query"].(map[string]any)
		if v["definition"] != want || q == nil || q["query"] != want {
			errorf("variable %s: query %v / definition %v, want %q", name, v["query"], v["definition"], want)
		}
		if !sameJSON(v["datasource"], wantDatasource) {
			errorf("variable %s is not on ${datasource}", name)
		}
	}

	// Annotations.
	for _, a := range list(root, "annotations", "list") {
		name, _ := a["name"].(string)
		if a["builtIn"] == 1.0 {
			if !sameJSON(a["datasource"], map[string]any{"type": "grafana", "uid": "-- Grafana --"}) {
				errorf("built-in annotation %q: unexpected datasource %v", name, a["datasource"])
			}
			continue
		}
		if !sameJSON(a["datasource"], wantDatasource) {
			errorf("annotation %q: datasource %v, want ${datasource}", name, a["datasource"])
		}
		tg, _ := a["target"].(map[string]any)
		if tg == nil || tg["expr"] == "" {
			errorf("annotation %q has no target.expr", name)
			continue
		}
		if ds, ok := tg["datasource"]; ok && !sameJSON(ds, wantDatasource) {
			errorf("annotation %q: target datasource %v", name, ds)
		}
		if _, ok := a["expr"]; ok {
			errorf("annotation %q: use target.expr only, not the legacy expr", name)
		}
	}

	// Panels.
	ids := map[float64]string{}
	var top []gridBox
	for _, p := range list(root, "panels") {
		lintPanel(errorf, p, ids)
		top = append(top, box(p))
		if p["type"] == "row" {
			children := list(p, "panels")
			if collapsed, _ := p["collapsed"].(bool); !collapsed && len(children) > 0 {
				errorf("row %q is expanded but nests panels: expanded rows keep their panels at the top level", p["title"])
			}
			var nested []gridBox
			for _, c := range children {
				lintPanel(errorf, c, ids)
				if c["type"] == "row" {
					errorf("row %q nests a row", p["title"])
				}
				b := box(c)
				if b.y <= box(p).y {
					errorf("panel %q sits above its row %q", b.where, p["title"])
				}
				nested = append(nested, b)
			}
			checkOverlaps(errorf, nested)
		}
	}
	checkOverlaps(errorf, top)
}

func lintPanel(errorf func(string, ...any), p map[string]any, ids map[float64]string) {
	title, _ := p["title"].(string)
	typ, _ := p["type"].(string)
	if title == "" {
		errorf("a %s panel has no title", typ)
	}
	where := fmt.Sprintf("panel %q", title)
	if !knownPanelTypes[typ] {
		errorf("%s: unknown panel type %q", where, typ)
	}
	id, ok := p["id"].(float64)
	if !ok {
		errorf("%s has no id", where)
	} else if other, dup := ids[id]; dup {
		errorf("%s: id %v is also %s's", where, id, other)
	} else {
		ids[id] = title
	}
	b := box(p)
	if b.w < 1 || b.h < 1 || b.x < 0 || b.y < 0 || b.x+b.w > 24 {
		errorf("%s: gridPos %+v is outside the 24-column grid", where, b)
	}
	if typ == "row" {
		if _, ok := p["targets"]; ok {
			errorf("%s: a row has no queries", where)
		}
		if ds, ok := p["datasource"]; ok && !sameJSON(ds, wantDatasource) {
			errorf("%s: datasource %v", where, ds)
		}
		return
	}
	if desc, _ := p["description"].(string); len(desc) < 20 {
		errorf("%s needs a description", where)
	}
	if !sameJSON(p["datasource"], wantDatasource) {
		errorf("%s: datasource %v, want %v", where, p["datasource"], wantDatasource)
	}
	targets := list(p, "targets")
	if len(targets) == 0 {
		errorf("%s has no queries", where)
	}
	refs := map[string]bool{}
	for _, tg := range targets {
		ref, _ := tg["refId"].(string)
		if ref == "" || refs[ref] {
			errorf("%s: missing or duplicate refId %q", where, ref)
		}
		refs[ref] = true
		if !sameJSON(tg["datasource"], wantDatasource) {
			errorf("%s/%s: datasource %v, want %v", where, ref, tg["datasource"], wantDatasource)
		}
		if expr, _ := tg["expr"].(string); strings.TrimSpace(expr) == "" {
			errorf("%s/%s: empty expr", where, ref)
		}
		if typ == "table" && (tg["format"] != "table" || tg["instant"] != true) {
			errorf("%s/%s: table queries are instant queries in table format", where, ref)
		}
	}
	// Units: every panel here shows numbers (or maps them to text).
	fc, _ := p["fieldConfig"].(map[string]any)
	defaults, _ := fc["defaults"].(map[string]any)
	unit, _ := defaults["unit"].(string)
	if unit == "" {
		errorf("%s: fieldConfig.defaults.unit is not set", where)
	} else if !knownUnits[unit] {
		errorf("%s: unknown unit %q", where, unit)
	}
	overrides, _ := fc["overrides"].([]any)
	for _, o := range overrides {
		om, _ := o.(map[string]any)
		props, _ := om["properties"].([]any)
		for _, pr := range props {
			prm, _ := pr.(map[string]any)
			if prm["id"] == "unit" {
				if u, _ := prm["value"].(string); !knownUnits[u] {
					errorf("%s: override with unknown unit %q", where, u)
				}
			}
		}
	}
	if typ == "table" {
		lintTableTransformations(errorf, where, p, refs)
	}
}

// lintTableTransformations: a multi-query table names its value columns
// "Value #<refId>"; each one must be renamed or hidden by the organize
// transformation, and every such name must be one of the panel's queries.
func lintTableTransformations(errorf func(string, ...any), where string, p map[string]any, refs map[string]bool) {
	var organize map[string]any
	for _, tr := range list(p, "transformations") {
		if tr["id"] == "organize" {
			organize, _ = tr["options"].(map[string]any)
		}
	}
	if organize == nil {
		return
	}
	handled := map[string]bool{}
	for _, key := range []string{"renameByName", "excludeByName", "indexByName"} {
		m, _ := organize[key].(map[string]any)
		for field := range m {
			if ref, ok := strings.CutPrefix(field, "Value #"); ok {
				if !refs[ref] {
					errorf("%s: organize.%s names %q but the panel has no query %s", where, key, field, ref)
				}
				if key != "indexByName" {
					handled[field] = true
				}
			}
		}
	}
	if len(refs) > 1 {
		for ref := range refs {
			if !handled["Value #"+ref] {
				errorf("%s: column \"Value #%s\" is neither renamed nor hidden", where, ref)
			}
		}
	}
}

func box(p map[string]any) gridBox {
	g, _ := p["gridPos"].(map[string]any)
	n := func(k string) int { f, _ := g[k].(float64); return int(f) }
	title, _ := p["title"].(string)
	return gridBox{where: title, x: n("x"), y: n("y"), w: n("w"), h: n("h")}
}

func checkOverlaps(errorf func(string, ...any), boxes []gridBox) {
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h {
				errorf("panels %q %+v and %q %+v overlap", a.where, a, b.where, b)
			}
		}
	}
}

// queries returns every PromQL expression of a dashboard: panel targets
// (nested in collapsed rows too), annotation targets and the selectors of the
// label_values() template variables.
func queries(t *testing.T, d dashboardFile) []query {
	var out []query
	var walk func(ps []map[string]any)
	walk = func(ps []map[string]any) {
		for _, p := range ps {
			for _, tg := range list(p, "targets") {
				expr, _ := tg["expr"].(string)
				legend, _ := tg["legendFormat"].(string)
				out = append(out, query{where: fmt.Sprintf("panel %q/%v", p["title"], tg["refId"]), expr: expr, legend: legend})
			}
			walk(list(p, "panels"))
		}
	}
	walk(list(d.root, "panels"))
	for _, a := range list(d.root, "annotations", "list") {
		if tg, ok := a["target"].(map[string]any); ok {
			expr, _ := tg["expr"].(string)
			var legend []string
			for _, k := range []string{"titleFormat", "textFormat"} {
				s, _ := a[k].(string)
				legend = append(legend, s)
			}
			if tags, _ := a["tagKeys"].(string); tags != "" {
				for _, k := range strings.Split(tags, ",") {
					legend = append(legend, "{{"+strings.TrimSpace(k)+"}}")
				}
			}
			out = append(out, query{where: fmt.Sprintf("annotation %q", a["name"]), expr: expr, legend: strings.Join(legend, " ")})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)
	for _, v := range list(d.root, "templating", "list") {
		if v["type"] != "query" {
			continue
		}
		q, _ := v["query"].(map[string]any)
		s, _ := q["query"].(string)
		m := labelValues.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("%s: variable %v: only label_values(selector, label) is supported, got %q", d.name, v["name"], s)
			continue
		}
		out = append(out, query{where: fmt.Sprintf("variable %v", v["name"]), expr: m[1], legend: "{{" + m[2] + "}}", variable: true})
	}
	return out
}

// rateIntervalSentinel stands for $__rate_interval while parsing, so that
// every rate() can be checked to use it.
const rateIntervalSentinel = time.Hour + 2*time.Minute + 3*time.Second

// grafanaMacros are replaced by durations to parse the expressions.
var grafanaMacros = strings.NewReplacer(
	"${__rate_interval}", "1h2m3s", "$__rate_interval", "1h2m3s",
	"${__interval}", "1m", "$__interval", "1m",
	"${__range}", "1h", "$__range", "1h",
)

// TestDashboardQueries parses every expression with the Prometheus PromQL
// parser and checks it: rate(), irate() and increase() use $__rate_interval;
// every selector names its metric, filters on $job and $instance (template
// variables excepted) and uses only labels the metric has; aggregations,
// on() and legends use labels the expression has; and every metric is one
// the exporter emits, or a contract metric pending in a later issue.
func TestDashboardQueries(t *testing.T) {
	emitted := emittedMetrics(t)
	metricLabels := func(name string) ([]string, bool) {
		if l, ok := emitted[name]; ok {
			return l, true
		}
		if _, ok := pendingMetrics[name]; ok {
			return contractMetrics[name], true
		}
		return nil, false
	}
	recorded := recordingRules(t)
	p := parser.NewParser(parser.Options{})
	used := map[string]bool{}
	token := regexp.MustCompile(`[A-Za-z0-9_:]*redis_security_[A-Za-z0-9_:]*`)
	for _, d := range loadDashboards(t) {
		for _, q := range queries(t, d) {
			errorf := func(format string, args ...any) {
				t.Errorf("%s: %s: "+format+"\n\t%s", append([]any{d.name, q.where}, append(args, q.expr)...)...)
			}
			// Every metric-like token, whatever the parser makes of it.
			for _, tok := range token.FindAllString(q.expr, -1) {
				if strings.Contains(tok, ":") {
					if !recorded[tok] {
						errorf("recording rule %s is not defined in alerts/", tok)
					}
					continue
				}
				used[tok] = true
				if _, ok := metricLabels(tok); !ok {
					errorf("metric %s is neither emitted by the exporter nor a pending contract metric", tok)
				}
			}
			expr, err := p.ParseExpr(grafanaMacros.Replace(q.expr))
			if err != nil {
				errorf("does not parse: %v", err)
				continue
			}
			if ty := expr.Type(); ty != parser.ValueTypeVector && ty != parser.ValueTypeScalar {
				errorf("evaluates to a %s, want an instant vector", ty)
			}
			checkExpr(errorf, expr, q, metricLabels)
		}
	}
	for name, issue := range pendingMetrics {
		if _, ok := emitted[name]; ok {
			t.Errorf("%s (pending, issue %d) is emitted by the exporter now: remove it from pendingMetrics", name, issue)
		}
		if _, ok := contractMetrics[name]; !ok {
			t.Errorf("%s (pending, issue %d) is not in the metric contract", name, issue)
		}
		if !used[name] {
			t.Errorf("%s (pending, issue %d) is not used by any dashboard: remove it from pendingMetrics", name, issue)
		}
	}
}

func checkExpr(errorf func(string, ...any), expr parser.Expr, q query, metricLabels func(string) ([]string, bool)) {
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.Call:
			switch n.Func.Name {
			case "rate", "irate", "increase":
				var rng time.Duration
				switch a := n.Args[0].(type) {
				case *parser.MatrixSelector:
					rng = a.Range
				case *parser.SubqueryExpr:
					rng = a.Range
				}
				if rng != rateIntervalSentinel {
					errorf("%s() must range over [$__rate_interval]", n.Func.Name)
				}
			}
		case *parser.VectorSelector:
			name := n.Name
			if name == "" {
				errorf("selector %s has no plain metric name", n)
				return nil
			}
			lbls, ok := metricLabels(name)
			if !ok {
				return nil // reported above, or a recording rule
			}
			allowed := set(append(append([]string{labels.MetricName}, targetLabels...), lbls...))
			matchers := map[string]*labels.Matcher{}
			for _, m := range n.LabelMatchers {
				matchers[m.Name] = m
				if !allowed[m.Name] {
					errorf("%s has no label %q (it has %v)", name, m.Name, lbls)
				}
			}
			if q.variable {
				return nil
			}
			if m := matchers["job"]; m == nil || m.Type != labels.MatchRegexp || m.Value != "$job" {
				errorf(`selector of %s must filter job=~"$job"`, name)
			}
			if m := matchers["instance"]; m == nil || m.Value != "$instance" || (m.Type != labels.MatchRegexp && m.Type != labels.MatchEqual) {
				errorf(`selector of %s must filter instance on "$instance"`, name)
			}
		}
		return nil
	})
	have, known := resultLabels(errorf, expr, metricLabels)
	if !known {
		return
	}
	for _, m := range regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
		if !have[m[1]] {
			errorf("legend/title uses {{%s}} but the result has only %v", m[1], keys(have))
		}
	}
}

// resultLabels returns the label names an expression's result can carry, and
// reports aggregations and on() clauses that name labels their operand does
// not have. known is false where the labels cannot be worked out.
func resultLabels(errorf func(string, ...any), e parser.Expr, metricLabels func(string) ([]string, bool)) (have map[string]bool, known bool) {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return resultLabels(errorf, n.Expr, metricLabels)
	case *parser.UnaryExpr:
		return resultLabels(errorf, n.Expr, metricLabels)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}, true
	case *parser.VectorSelector:
		lbls, ok := metricLabels(n.Name)
		return set(append(append([]string{}, targetLabels...), lbls...)), ok
	case *parser.MatrixSelector:
		return resultLabels(errorf, n.VectorSelector, metricLabels)
	case *parser.SubqueryExpr:
		return resultLabels(errorf, n.Expr, metricLabels)
	case *parser.Call:
		switch n.Func.Name {
		case "time", "vector", "scalar", "pi":
			return map[string]bool{}, true
		case "label_replace", "label_join":
			have, known := resultLabels(errorf, n.Args[0], metricLabels)
			if dst, ok := n.Args[1].(*parser.StringLiteral); ok && known {
				have = copySet(have)
				have[dst.Val] = true
			}
			return have, known
		}
		for _, a := range n.Args {
			if ty := a.Type(); ty == parser.ValueTypeVector || ty == parser.ValueTypeMatrix {
				return resultLabels(errorf, a, metricLabels)
			}
		}
		return map[string]bool{}, true
	case *parser.AggregateExpr:
		inner, known := resultLabels(errorf, n.Expr, metricLabels)
		switch n.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
			return inner, known
		}
		if known {
			for _, g := range n.Grouping {
				if !inner[g] {
					errorf("%s by/without (%s): the operand has no label %q (it has %v)", n.Op, g, g, keys(inner))
				}
			}
		}
		if n.Without {
			out := copySet(inner)
			for _, g := range n.Grouping {
				delete(out, g)
			}
			return out, known
		}
		out := set(n.Grouping)
		if n.Op == parser.COUNT_VALUES {
			if s, ok := n.Param.(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		}
		return out, true
	case *parser.BinaryExpr:
		l, lok := resultLabels(errorf, n.LHS, metricLabels)
		r, rok := resultLabels(errorf, n.RHS, metricLabels)
		if n.LHS.Type() == parser.ValueTypeScalar {
			return r, rok
		}
		if n.RHS.Type() == parser.ValueTypeScalar {
			return l, lok
		}
		vm := n.VectorMatching
		if vm != nil && vm.On && lok && rok {
			for _, m := range vm.MatchingLabels {
				if !l[m] || !r[m] {
					errorf("on (%s): both sides need label %q (left %v, right %v)", m, m, keys(l), keys(r))
				}
			}
		}
		switch {
		case n.Op == parser.LOR:
			out := copySet(l)
			for k := range r {
				out[k] = true
			}
			return out, lok && rok
		case n.Op == parser.LAND || n.Op == parser.LUNLESS:
			return l, lok
		case vm != nil && vm.Card == parser.CardManyToOne:
			out := copySet(l)
			for _, k := range vm.Include {
				out[k] = true
			}
			return out, lok
		case vm != nil && vm.Card == parser.CardOneToMany:
			out := copySet(r)
			for _, k := range vm.Include {
				out[k] = true
			}
			return out, rok
		case vm != nil && vm.On:
			out := map[string]bool{}
			for _, k := range vm.MatchingLabels {
				if l[k] {
					out[k] = true
				}
			}
			return out, lok
		case vm != nil:
			out := copySet(l)
			for _, k := range vm.MatchingLabels {
				delete(out, k)
			}
			return out, lok
		}
		return l, lok
	}
	return nil, false
}

// recordingRules returns the recording rules defined in alerts/, the only
// non-raw names a dashboard may query.
func recordingRules(t *testing.T) map[string]bool {
	out := map[string]bool{}
	files, _ := filepath.Glob("../alerts/*.yml")
	more, _ := filepath.Glob("../alerts/*.yaml")
	for _, f := range append(files, more...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if yaml.Unmarshal(raw, &doc) != nil {
			continue // not a rule file (a promtool test file, say)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}

// TestProvisioningExample: the provisioning files are valid Grafana
// provisioning YAML, docs/dashboards.md shows how to use them, and it names every
// dashboard.
func TestProvisioningExample(t *testing.T) {
	// The fields of Grafana's provisioning files; decoding is strict, so a
	// misspelt key fails.
	var providers struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			FolderUID             string `yaml:"folderUid"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "provisioning/dashboards/redis-security.yaml", &providers)
	if providers.APIVersion != 1 || len(providers.Providers) != 1 || providers.Providers[0].Type != "file" || providers.Providers[0].Options.Path == "" {
		t.Fatalf("dashboard provider: want apiVersion 1 and one file provider with options.path, got %+v", providers)
	}
	var datasources struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string         `yaml:"name"`
			UID       string         `yaml:"uid"`
			Type      string         `yaml:"type"`
			Access    string         `yaml:"access"`
			URL       string         `yaml:"url"`
			IsDefault bool           `yaml:"isDefault"`
			JSONData  map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "provisioning/datasources/prometheus.yaml", &datasources)
	if datasources.APIVersion != 1 || len(datasources.Datasources) != 1 {
		t.Fatalf("datasources: want apiVersion 1 and one datasource, got %+v", datasources)
	}
	if ds := datasources.Datasources[0]; ds.Type != "prometheus" || ds.Access != "proxy" || ds.URL == "" || ds.UID == "" || !ds.IsDefault || ds.JSONData["timeInterval"] == nil {
		t.Errorf("datasource: want the default prometheus datasource (proxy access) with a uid, url and timeInterval, got %+v", ds)
	}

	doc, err := os.ReadFile("../docs/dashboards.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	for _, want := range []string{"dashboards/redis-security-fleet.json", "dashboards/redis-security-instance.json",
		"dashboards/provisioning/dashboards/redis-security.yaml", "dashboards/provisioning/datasources/prometheus.yaml",
		providers.Providers[0].Options.Path} {
		if !strings.Contains(section, want) {
			t.Errorf("docs/dashboards.md does not mention %s", want)
		}
	}
	for _, title := range dashboardTitles {
		if !strings.Contains(section, title) {
			t.Errorf("docs/dashboards.md does not name %q", title)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// list returns the objects of the JSON array at path below m.
func list(m map[string]any, path ...string) []map[string]any {
	var cur any = m
	for _, k := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[k]
	}
	arr, _ := cur.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		if em, ok := e.(map[string]any); ok {
			out = append(out, em)
		}
	}
	return out
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func set(s []string) map[string]bool {
	out := make(map[string]bool, len(s))
	for _, k := range s {
		out[k] = true
	}
	return out
}

func copySet(s map[string]bool) map[string]bool {
	out := make(map[string]bool, len(s))
	for k := range s {
		out[k] = true
	}
	return out
}

func keys(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
