package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
	"github.com/redis-security/redis_security_exporter/probe"
)

// The reference pages that describe what main.go and the exporter build:
// docs/metrics.md (every metric of /metrics and /probe) and docs/flags.md
// (every flag and environment variable). Both are checked both ways, and a
// failure names the row to add or remove.

// docTableRows returns the rows of every Markdown table in doc whose first
// cell is a code span matching first, split into trimmed cells (escaped
// pipes "\|" stay inside their cell).
func docTableRows(t *testing.T, doc string, first *regexp.Regexp) [][]string {
	t.Helper()
	var rows [][]string
	fence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(line, "| ") {
			continue
		}
		line = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "|"), "|")
		line = strings.ReplaceAll(line, `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(line, "|") {
			cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", `\|`)))
		}
		if first.MatchString(cells[0]) {
			rows = append(rows, cells)
		}
	}
	return rows
}

// documentedLabels turns a labels cell ("reason (`auth`, `command`), user")
// into its label names: the parentheses list values.
func documentedLabels(cell string) []string {
	cell = regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(cell, "")
	var out []string
	for _, l := range strings.Split(cell, ",") {
		if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// descLabels returns a Desc's const and variable label names, from its
// String() form (client_golang has no accessor).
func descLabels(d *prometheus.Desc) []string {
	s := d.String()
	var out []string
	if i := strings.LastIndex(s, "constLabels: {"); i >= 0 {
		body := s[i+len("constLabels: {"):]
		body = body[:strings.Index(body, "}")]
		for _, kv := range regexp.MustCompile(`(\w+)="`).FindAllStringSubmatch(body, -1) {
			out = append(out, kv[1])
		}
	}
	if i := strings.LastIndex(s, "variableLabels: {"); i >= 0 {
		body := s[i+len("variableLabels: {"):]
		body = body[:strings.Index(body, "}")]
		for _, l := range strings.Split(body, ",") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// exporterDescs is every metric description of /metrics and /probe: the
// target's collectors (all of them, opt-in ones included), the build info,
// and the multi-target endpoints' own metrics.
func exporterDescs(t *testing.T) (descs map[string]*prometheus.Desc, served map[string]string) {
	t.Helper()
	tg, err := exporter.NewTarget(exporter.Options{Address: exporter.Address{Network: "tcp", Addr: "127.0.0.1:1"}, Scrapers: allScrapers()})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	cfgFile := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfgFile, []byte("modules:\n  m:\n    allowed_targets: [\"127.0.0.1:1\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloader, err := probe.NewReloader(cfgFile, probe.Defaults{Options: collector.DefaultOptions(), Enabled: map[string]bool{"info": true}}, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reloader.Prober().Close()
	ch := make(chan *prometheus.Desc, 256)
	go func() {
		tg.Describe(ch)
		newBuildInfo().Describe(ch)
		reloader.Describe(ch)
		collector.NewVulnerabilityTableCollector(nil, "").Describe(ch)
		close(ch)
	}()
	descs = map[string]*prometheus.Desc{}
	for d := range ch {
		descs[descName(d)] = d
	}

	// What newMux really serves on /metrics (its own registry included),
	// against a target that is down: the exporter's self-metrics and the
	// scrape health, with their types.
	mux, err := newMux(config{telemetryPath: "/metrics", scrapeTimeoutD: 2 * time.Second, configFile: cfgFile}, tg, reloader, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	served = map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (redis_security_\w+) (\w+)$`).FindAllStringSubmatch(rec.Body.String(), -1) {
		served[m[1]] = m[2]
	}
	if served["redis_security_up"] == "" {
		t.Fatalf("/metrics of a down target has no redis_security_up:\n%s", rec.Body.String())
	}
	return descs, served
}

// TestDocsMetricsDocumentsEveryMetric: docs/metrics.md has one row per metric
// the exporter describes, with its labels and a known type, and documents no
// metric the exporter does not describe.
func TestDocsMetricsDocumentsEveryMetric(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := docTableRows(t, string(doc), regexp.MustCompile("^`redis_security_[a-z0-9_]+`$"))
	documented := map[string][]string{}
	for _, r := range rows {
		name := strings.Trim(r[0], "`")
		if _, dup := documented[name]; dup {
			t.Errorf("metric %s has two rows in docs/metrics.md: keep one", name)
		}
		if len(r) < 4 {
			t.Errorf("docs/metrics.md: the row of %s needs the columns metric | type | labels | meaning", name)
			continue
		}
		switch r[1] {
		case "gauge", "counter", "histogram", "summary":
		default:
			t.Errorf("docs/metrics.md: %s has type %q: want gauge, counter, histogram or summary", name, r[1])
		}
		if r[3] == "" {
			t.Errorf("docs/metrics.md: %s has no meaning", name)
		}
		documented[name] = documentedLabels(r[2])
	}
	descs, served := exporterDescs(t)
	if len(descs) < 50 {
		t.Fatalf("only %d metric descriptions: the exporter's Describe is not what this test expects", len(descs))
	}
	for name, d := range descs {
		labels, ok := documented[name]
		if !ok {
			t.Errorf("metric %s (labels %v) is not documented in docs/metrics.md: add a row `| `%s` | type | labels | meaning |` to the table of its collector", name, descLabels(d), name)
			continue
		}
		if want := descLabels(d); strings.Join(want, ",") != strings.Join(labels, ",") {
			t.Errorf("docs/metrics.md: %s has labels %v, the exporter %v: fix its labels cell", name, labels, want)
		}
	}
	types := map[string]string{}
	for _, r := range rows {
		if len(r) >= 4 {
			types[strings.Trim(r[0], "`")] = r[1]
		}
	}
	for name, typ := range served {
		if descs[name] == nil {
			t.Errorf("/metrics serves %s (%s), which this test's Describe set lacks: document it in docs/metrics.md and add its collector to exporterDescs", name, typ)
		}
		if _, ok := documented[name]; ok && types[name] != typ {
			t.Errorf("docs/metrics.md: %s has type %q, /metrics serves it as %q", name, types[name], typ)
		}
	}
	for name := range documented {
		if descs[name] == nil {
			t.Errorf("docs/metrics.md documents %s, which the exporter does not describe: remove its row (or register the metric)", name)
		}
	}
}

// TestDocsFlagsDocumentsEveryFlag: docs/flags.md has one row per flag of the
// application's kingpin model (the default command's and check's), with its
// environment variable and default, and no row for a flag that does not
// exist; every environment variable main.go reads besides the flags' is
// documented too.
func TestDocsFlagsDocumentsEveryFlag(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/flags.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ env, def string }
	documented := map[string]row{}
	for _, r := range docTableRows(t, string(doc), regexp.MustCompile("^`--")) {
		if len(r) < 4 {
			t.Errorf("docs/flags.md: row %q needs the columns flag | environment variable | default | meaning", r[0])
			continue
		}
		name := strings.TrimPrefix(strings.Trim(r[0], "`"), "--")
		name = strings.TrimPrefix(name, "[no-]")
		if _, dup := documented[name]; dup {
			t.Errorf("flag --%s has two rows in docs/flags.md: keep one", name)
		}
		documented[name] = row{env: strings.Trim(r[1], "`"), def: r[2]}
	}

	model := newApp(&config{}).Model()
	flags := model.Flags
	for _, c := range model.Commands {
		flags = append(flags, c.Flags...)
	}
	known := map[string]bool{}
	envs := map[string]bool{}
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		known[f.Name] = true
		if f.Envar != "" {
			envs[f.Envar] = true
		}
		r, ok := documented[f.Name]
		if !ok {
			t.Errorf("flag --%s (env %q, default %q) is not documented in docs/flags.md: add a row `| `--%s` | `%s` | default | meaning |`", f.Name, f.Envar, strings.Join(f.Default, ","), f.Name, f.Envar)
			continue
		}
		if r.env != f.Envar {
			t.Errorf("docs/flags.md: --%s has environment variable %q, the flag %q", f.Name, r.env, f.Envar)
		}
		checkDocumentedDefault(t, f.Name, f.IsBoolFlag(), f.Default, r.def)
	}
	for name := range documented {
		if !known[name] {
			t.Errorf("docs/flags.md documents --%s, which is not a flag: remove its row", name)
		}
	}

	// Environment variables read directly (not through a flag), such as
	// REDIS_PASSWORD: main.go's getenv("NAME") calls.
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`getenv\("([A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		envs[m[1]] = true
		if !strings.Contains(string(doc), "`"+m[1]+"`") {
			t.Errorf("environment variable %s (read by main.go) is not documented in docs/flags.md: add it to the table", m[1])
		}
	}
	for _, m := range regexp.MustCompile("`((?:REDIS|REDIS_SECURITY_EXPORTER)_[A-Z0-9_]+)`").FindAllStringSubmatch(string(doc), -1) {
		if !envs[m[1]] {
			t.Errorf("docs/flags.md names environment variable %s, which nothing reads: remove it", m[1])
		}
	}
}

// noDefaultInDoc are the flags whose default docs/flags.md describes rather
// than quotes, and why.
var noDefaultInDoc = map[string]string{
	"commands.list": "the list is long: the row links to it in docs/metrics.md",
	"version":       "kingpin's version flag",
	"help":          "kingpin's help flag",
}

// checkDocumentedDefault: a bool flag's default is written on/off (or
// true/false), any other default as a code span.
func checkDocumentedDefault(t *testing.T, name string, isBool bool, def []string, cell string) {
	t.Helper()
	if _, ok := noDefaultInDoc[name]; ok {
		return
	}
	value := strings.Join(def, ",")
	switch {
	case isBool:
		on := strings.Contains(cell, "on") || strings.Contains(cell, "true")
		off := strings.Contains(cell, "off") || strings.Contains(cell, "false")
		// A bool without a default is an action (--config.check): no cell.
		if value == "" && strings.TrimSpace(cell) == "" {
			return
		}
		if value == "true" && !on || value != "true" && !off {
			t.Errorf("docs/flags.md: --%s defaults to %q, the row says %q", name, value, cell)
		}
	case value == "":
		if strings.Contains(cell, "`") && name != "redis.addr" {
			t.Errorf("docs/flags.md: --%s has no default, the row says %q", name, cell)
		}
	default:
		if !strings.Contains(cell, "`"+value+"`") {
			t.Errorf("docs/flags.md: --%s defaults to %q, the row says %q: write it as `%s`", name, value, cell, value)
		}
	}
}

// TestDocsMetricsTypes: the type docs/metrics.md gives each metric is the one
// a scrape of a real redis-server serves, and the scrape serves no metric the
// page lacks.
func TestDocsMetricsTypes(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, r := range docTableRows(t, string(doc), regexp.MustCompile("^`redis_security_[a-z0-9_]+`$")) {
		if len(r) >= 2 {
			types[strings.Trim(r[0], "`")] = r[1]
		}
	}
	srv := redistest.Start(t, "")
	tg, err := exporter.NewTarget(exporter.Options{Address: exporter.Address{Network: "tcp", Addr: srv.Addr()}, Scrapers: allScrapers()})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	handler := exporter.MetricsHandler(tg, prometheus.NewRegistry(), exporter.HandlerOptions{DefaultTimeout: 10 * time.Second, Logger: log.NewNopLogger()})
	served := map[string]string{}
	for i := 0; i < 2; i++ { // the second scrape has what the first one's replies enable (CLIENT LIST)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, m := range regexp.MustCompile(`(?m)^# TYPE (redis_security_\w+) (\w+)$`).FindAllStringSubmatch(rec.Body.String(), -1) {
			served[m[1]] = m[2]
		}
		if !strings.Contains(rec.Body.String(), "redis_security_up 1") {
			t.Fatalf("scrape %d not up:\n%s", i, rec.Body.String())
		}
	}
	if len(served) < 40 {
		t.Fatalf("only %d metrics served by a default redis-server: %v", len(served), served)
	}
	for name, typ := range served {
		doc, ok := types[name]
		if !ok {
			t.Errorf("metric %s (%s) is served but not documented in docs/metrics.md: add a row for it", name, typ)
			continue
		}
		if doc != typ {
			t.Errorf("docs/metrics.md: %s has type %q, a scrape serves it as %q", name, doc, typ)
		}
	}
}
