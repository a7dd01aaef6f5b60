package check_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/redis-security/redis_security_exporter/check"
	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/offline"
)

// sampleReport has a live target with failing and passing checks, an
// offline one with a located and a whole-file finding, and one that could
// not be audited.
func sampleReport() check.Report {
	days := 3
	return check.Report{Targets: []check.TargetReport{
		{Target: "redis://127.0.0.1:6379", Kind: check.Live, Server: "redis 7.0.15", Up: true,
			Findings: []check.Finding{
				{Check: "user_weak_password", Severity: collector.High, Failed: true, Title: "An enabled ACL user has a weak or default password",
					Remediation: "ACL SETUSER <user> resetpass >LONG-RANDOM-PASSWORD", Objects: []collector.Object{{Kind: "user", Name: "app"}, {Kind: "user", Name: `"u\xff"`}}},
				{Check: "tls_certificate_expiring", Severity: collector.High, Failed: true, Title: "expires",
					Remediation: "renew", Objects: []collector.Object{{Kind: "certificate", Name: "CN=redis serial 01", DaysLeft: &days}}},
				{Check: "no_idle_timeout", Severity: collector.Low, Failed: false, Title: "Idle clients are never disconnected", Remediation: "timeout 300"},
			},
			NotEvaluated: []check.NotEvaluated{{Check: "lua_sandbox_escape", Reason: check.ReasonNotCollected}}},
		{Target: "conf/redis weak.conf", Kind: check.Offline, Server: "redis 7.2.4", Up: true,
			Findings: []check.Finding{
				{Check: "bind_all_interfaces", Severity: collector.Medium, Failed: true, Title: "Listens on every network interface", Remediation: "bind 127.0.0.1",
					Objects: []collector.Object{{Kind: "listener", Name: "0.0.0.0:6379", Transport: "tcp"}}, Location: &check.Location{File: "conf/redis weak.conf", Line: 12}},
				{Check: "maxmemory_unlimited", Severity: collector.Low, Failed: true, Title: "No memory limit", Remediation: "maxmemory",
					Location: &check.Location{File: "conf/redis weak.conf"}},
			},
			NotEvaluated: []check.NotEvaluated{{Check: "known_vulnerabilities", Reason: check.ReasonNeedsServer}}},
		{Target: "redis://127.0.0.1:1", Kind: check.Live, Up: false, Error: "connection refused"},
	}}
}

// TestSARIFValidatesAgainstTheSchema: the SARIF report decodes into the
// SARIF 2.1.0 object model without an unknown field and validates against
// the official schema (the one github.com/owenrumney/go-sarif embeds).
func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := check.WriteSARIF(&buf, sampleReport(), "1.2.3"); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	var r sarif.Report
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("not SARIF 2.1.0's object model: %v\n%s", err, buf.String())
	}
	// The raw bytes against the schema itself: the OASIS SARIF 2.1.0 schema
	// (errata01) as go-sarif ships it, read from the module.
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchema(t)), gojsonschema.NewBytesLoader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", res.Errors(), buf.String())
	}
	// The validation can fail: a level SARIF does not know is refused.
	broken := bytes.Replace(buf.Bytes(), []byte(`"level": "error"`), []byte(`"level": "severe"`), 1)
	if res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchema(t)), gojsonschema.NewBytesLoader(broken)); err != nil || res.Valid() {
		t.Fatalf("a level \"severe\" passed the schema (err %v)", err)
	}

	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Version string `json:"version"`
					Rules   []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notifications       []struct {
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q, %d runs", doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	rules := run.Tool.Driver.Rules
	if len(rules) != len(collector.Checks) || run.Tool.Driver.Version != "1.2.3" {
		t.Fatalf("%d rules for %d checks, version %q", len(rules), len(collector.Checks), run.Tool.Driver.Version)
	}
	for i, c := range collector.Checks {
		r := rules[i]
		if r.ID != c.ID || r.Help.Text != c.Remediation || r.Properties["security-severity"] == nil {
			t.Errorf("rule %d = %+v, want check %s with its remediation as help", i, r, c.ID)
		}
	}
	type loc struct {
		uri  string
		line int
	}
	want := map[string]struct {
		loc   loc
		level string
		msg   string
	}{
		"user_weak_password":       {loc{"redis://127.0.0.1:6379", 0}, "error", `An enabled ACL user has a weak or default password: app, "u\xff"`},
		"tls_certificate_expiring": {loc{"redis://127.0.0.1:6379", 0}, "error", "expires: CN=redis serial 01: 3 days left"},
		"bind_all_interfaces":      {loc{"conf/redis%20weak.conf", 12}, "warning", "Listens on every network interface: 0.0.0.0:6379 (tcp)"},
		"maxmemory_unlimited":      {loc{"conf/redis%20weak.conf", 0}, "note", "No memory limit"},
	}
	if len(run.Results) != len(want) {
		t.Errorf("%d results, want one per failing check: %+v", len(run.Results), run.Results)
	}
	for _, r := range run.Results {
		w, ok := want[r.RuleID]
		if !ok {
			t.Errorf("unexpected result %+v", r)
			continue
		}
		got := loc{uri: r.Locations[0].PhysicalLocation.ArtifactLocation.URI}
		if reg := r.Locations[0].PhysicalLocation.Region; reg != nil {
			got.line = reg.StartLine
		}
		if got != w.loc || r.Level != w.level || r.Message.Text != w.msg || rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s: at %+v level %s %q, want %+v %s %q", r.RuleID, got, r.Level, r.Message.Text, w.loc, w.level, w.msg)
		}
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful {
		t.Error("a target could not be audited, yet executionSuccessful")
	}
	var notes []string
	for _, n := range inv.Notifications {
		notes = append(notes, n.Message.Text)
	}
	all := strings.Join(notes, "\n")
	for _, s := range []string{"not audited: connection refused", "lua_sandbox_escape not evaluated", "known_vulnerabilities not evaluated: " + check.ReasonNeedsServer} {
		if !strings.Contains(all, s) {
			t.Errorf("notifications lack %q:\n%s", s, all)
		}
	}
}

// TestJUnit: one testsuite per target, one testcase per check; failing
// checks are failures with objects, location and remediation, checks not
// evaluated are skipped, a target not audited is an error.
func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := check.WriteJUnit(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	type msg struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *msg   `xml:"failure"`
				Error     *msg   `xml:"error"`
				Skipped   *msg   `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if doc.Tests != 8 || doc.Failures != 4 || doc.Errors != 1 || doc.Skipped != 2 || len(doc.Suites) != 3 {
		t.Fatalf("tests %d failures %d errors %d skipped %d suites %d, want 8 4 1 2 3\n%s", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, len(doc.Suites), buf.String())
	}
	live := doc.Suites[0]
	if live.Name != "redis://127.0.0.1:6379" || live.Tests != 4 || live.Failures != 2 {
		t.Errorf("live suite %+v", live)
	}
	weak := live.Cases[0]
	if weak.Name != "user_weak_password" || weak.Classname != "high" || weak.Failure == nil ||
		!strings.Contains(weak.Failure.Text, "objects: app") || !strings.Contains(weak.Failure.Text, "remediation: ACL SETUSER") {
		t.Errorf("failing case %+v", weak)
	}
	if c := live.Cases[2]; c.Name != "no_idle_timeout" || c.Failure != nil || c.Skipped != nil {
		t.Errorf("passing case %+v", c)
	}
	if c := live.Cases[3]; c.Name != "lua_sandbox_escape" || c.Skipped == nil || c.Skipped.Message != check.ReasonNotCollected {
		t.Errorf("not evaluated case %+v", c)
	}
	if c := doc.Suites[1].Cases[0]; c.Failure == nil || !strings.Contains(c.Failure.Text, "where: conf/redis weak.conf:12") {
		t.Errorf("offline case %+v", c)
	}
	if c := doc.Suites[2].Cases[0]; c.Error == nil || c.Error.Text != "connection refused" {
		t.Errorf("down target %+v", c)
	}
}

// TestTextAndJSON: text names the objects and, offline, where; JSON keeps
// every field and writes [] for empty lists.
func TestTextAndJSON(t *testing.T) {
	var text bytes.Buffer
	if err := check.WriteText(&text, sampleReport()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"redis://127.0.0.1:6379: 2 of 3 checks fail",
		`app, "u\xff"`,
		"CN=redis serial 01: 3 days left",
		"conf/redis weak.conf: 2 of 2 checks fail (offline audit for redis 7.2.4)",
		"where:   conf/redis weak.conf:12",
		"FAIL high     user_weak_password: An enabled ACL user has a weak or default password",
		"     objects: app",
		"     fix:     ACL SETUSER <user> resetpass",
		"ok: no_idle_timeout",
		"conf/redis weak.conf (default)",
		"lua_sandbox_escape: " + check.ReasonNotCollected,
		"redis://127.0.0.1:1: NOT AUDITED: connection refused",
	} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
	var js bytes.Buffer
	if err := check.WriteJSON(&js, sampleReport()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"objects": []`, `"kind": "certificate"`, `"days_left": 3`, `"location": {`, `"line": 12`, `"not_evaluated": []`, `>LONG-RANDOM-PASSWORD`} {
		if !strings.Contains(js.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, js.String())
		}
	}
	if err := check.Write(&js, sampleReport(), "yaml", ""); err == nil {
		t.Error("format yaml accepted")
	}
}

func TestExitCode(t *testing.T) {
	r := sampleReport()
	for _, tc := range []struct {
		targets []check.TargetReport
		failOn  collector.Severity
		want    int
	}{
		{r.Targets[:1], collector.Critical, 0},
		{r.Targets[:1], collector.High, 1},
		{r.Targets[1:2], collector.High, 0},
		{r.Targets[1:2], collector.Low, 1},
		{r.Targets, collector.Critical, 2},
		{nil, collector.Low, 0},
	} {
		if got := (check.Report{Targets: tc.targets}).ExitCode(tc.failOn); got != tc.want {
			t.Errorf("%d targets, --fail-on %s: exit %d, want %d", len(tc.targets), tc.failOn, got, tc.want)
		}
	}
}

// sarifSchema is the SARIF 2.1.0 JSON schema that go-sarif embeds as a Go
// string constant (unexported), read from the module's source.
func sarifSchema(t *testing.T) string {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("go list go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "const schema = `")
	schema, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 || !strings.Contains(schema, `"Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"`) {
		t.Fatal("go-sarif's schema.go no longer holds the SARIF 2.1.0 schema as const schema")
	}
	return schema
}

// TestOfflineSARIFValidates: the real offline audit of the repository's
// weak example, its results located in the files, is valid SARIF 2.1.0.
func TestOfflineSARIFValidates(t *testing.T) {
	opts := collector.DefaultOptions()
	weak, _, err := collector.LoadWeakPasswords(true, "")
	if err != nil {
		t.Fatal(err)
	}
	opts.WeakPasswords = weak
	tr := offline.Audit(offline.Options{ConfigFile: "../examples/redis-weak.conf", ACLFile: "../examples/users.acl",
		ServerVersion: "redis:7.0.15", Collector: opts, Now: time.Now()})
	if !tr.Up {
		t.Fatal(tr.Error)
	}
	var buf bytes.Buffer
	if err := check.WriteSARIF(&buf, check.Report{Targets: []check.TargetReport{tr}}, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(sarifSchema(t)), gojsonschema.NewBytesLoader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		t.Fatalf("not valid SARIF 2.1.0: %v\n%s", res.Errors(), buf.String())
	}
	for _, want := range []string{`"uri": "../examples/redis-weak.conf"`, `"uri": "../examples/users.acl"`, `"startLine": 9`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}
}
