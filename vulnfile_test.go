package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// operatorTable is a --vuln.file as an operator would write it: one CVE the
// embedded table does not have (affecting the 7.0 branch the suite's
// redis-server is on), and end-of-life data that calls 7.0 supported, which
// the embedded table does not.
const operatorTable = `{
  "as_of": "2026-11-30",
  "scope": "test table",
  "vulnerabilities": [
    {"id": "CVE-2099-0001", "title": "A future bug", "cvss": 9.8, "cvss_version": "3.1", "severity": "critical",
     "advisory": "https://github.com/redis/redis/security/advisories/GHSA-0000-0000-0000",
     "sources": ["https://github.com/redis/redis/security/advisories/GHSA-0000-0000-0000"],
     "verified": true,
     "affected": {"redis": {"fixed": {"7.0": "7.0.99"}}}}
  ],
  "end_of_life": {"flavors": {"redis": {"branches": {
    "7.0": {"eol": false, "source": "https://example.com/eol", "note": "test"}}}}}
}`

// operatorTableTime is 2026-11-30T00:00:00Z.
const operatorTableTime = "1.7959968e+09"

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVulnFileServeProbeAndCheck: --vuln.file replaces the embedded table
// (rows and end-of-life data) on /metrics, on /probe and in check, and
// /metrics says which table is in use and how old it is.
func TestVulnFileServeProbeAndCheck(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	table := writeTestFile(t, "table.json", operatorTable)
	cfgFile := writeTestFile(t, "config.yml", "modules:\n  m:\n    allowed_targets: [\"127.0.0.1/32\"]\n")

	embedded := startExporter(t, []string{"REDIS_ADDR=" + srv.Addr()})
	file := startExporter(t, []string{"REDIS_ADDR=" + srv.Addr()}, "--vuln.file="+table, "--config.file="+cfgFile)

	embeddedTime := float64(collector.EmbeddedVulnerabilityTable().AsOfTime().Unix())
	m := get(t, embedded.url+"/metrics")
	for _, want := range []string{
		fmt.Sprintf(`redis_security_exporter_vulnerability_table_timestamp_seconds{source="embedded"} %s`, formatFloat(embeddedTime)),
		`redis_security_vulnerability{cve="CVE-2024-31449",severity="high"} 1`,
		"redis_security_version_end_of_life 1",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("embedded table: /metrics lacks %q", want)
		}
	}
	if strings.Contains(m, "CVE-2099-0001") {
		t.Error("embedded table: the operator's CVE is reported")
	}

	for name, body := range map[string]string{
		"/metrics": get(t, file.url+"/metrics"),
		"/probe":   get(t, file.url+"/probe?module=m&target="+srv.Addr()),
	} {
		for _, want := range []string{
			`redis_security_vulnerability{cve="CVE-2099-0001",severity="critical"} 1`,
			`redis_security_known_vulnerabilities{severity="critical"} 1`,
			`redis_security_known_vulnerabilities{severity="high"} 0`,
			"redis_security_version_end_of_life 0",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("--vuln.file, %s lacks %q:\n%s", name, want, body)
			}
		}
		if strings.Contains(body, "CVE-2024-31449") {
			t.Errorf("--vuln.file, %s still reports a CVE of the embedded table", name)
		}
	}
	m = get(t, file.url+"/metrics")
	if want := `redis_security_exporter_vulnerability_table_timestamp_seconds{source="file"} ` + operatorTableTime; !strings.Contains(m, want) {
		t.Errorf("/metrics lacks %q:\n%s", want, m)
	}
	// Not a per-target metric: /probe does not carry it.
	if p := get(t, file.url+"/probe?module=m&target="+srv.Addr()); strings.Contains(p, "vulnerability_table_timestamp") {
		t.Error("/probe carries the table's date")
	}
	if !strings.Contains(file.logs(), "loaded the vulnerability table") || !strings.Contains(file.logs(), "as_of=2026-11-30") {
		t.Errorf("start-up log does not say which table is used:\n%s", file.logs())
	}

	// check: the known_vulnerabilities check follows the table too.
	knownVulns := func(args ...string) bool {
		t.Helper()
		out, code := runMain(t, nil, append([]string{"check", "--output=json", "--fail-on=critical"}, append(args, srv.Addr())...)...)
		if code == 2 {
			t.Fatalf("check %v: exit 2:\n%s", args, out)
		}
		var report struct {
			Targets []struct {
				Findings []struct {
					Check  string `json:"check"`
					Failed bool   `json:"failed"`
				} `json:"findings"`
			} `json:"targets"`
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.Targets) != 1 {
			t.Fatalf("check %v: %v\n%s", args, err, out)
		}
		for _, f := range report.Targets[0].Findings {
			if f.Check == "known_vulnerabilities" {
				return f.Failed
			}
		}
		t.Fatalf("check %v: no known_vulnerabilities finding:\n%s", args, out)
		return false
	}
	if !knownVulns() {
		t.Error("check with the embedded table: Redis 7.0 has no known vulnerabilities")
	}
	if !knownVulns("--vuln.file=" + table) {
		t.Error("check --vuln.file: the operator's CVE on 7.0 is not found")
	}
	clean := writeTestFile(t, "clean.json", strings.Replace(operatorTable, `"7.0": "7.0.99"`, `"7.0": "7.0.1"`, 1))
	if knownVulns("--vuln.file=" + clean) {
		t.Error("check --vuln.file with no row affecting 7.0.15: still failing (the embedded table is used)")
	}
}

// TestVulnFileInvalidStopsStartup: a bad table stops the exporter and check
// with exit code 2 and an error that names the file and the problem.
func TestVulnFileInvalidStopsStartup(t *testing.T) {
	t.Parallel()
	row := regexp.MustCompile(`(?s)\{"id": "CVE-2099-0001".*?\}\}\}\}`).FindString(operatorTable)
	if row == "" {
		t.Fatal("no row in operatorTable")
	}
	edit := func(old, new string) string {
		if !strings.Contains(operatorTable, old) {
			t.Fatalf("%q not in operatorTable", old)
		}
		return strings.Replace(operatorTable, old, new, 1)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"unknown field", edit(`"title"`, `"fixed_in": "7.0.99", "title"`), `unknown field "fixed_in"`},
		{"bad version", edit(`"7.0.99"`, `"7.0"`), `vulnerabilities[0] (CVE-2099-0001): redis: fixed 7.0: version "7.0": want MAJOR.MINOR.PATCH`},
		{"duplicate CVE", edit(row, row+", "+row), "vulnerabilities[1]: duplicate id CVE-2099-0001"},
		{"missing date", edit(`"as_of": "2026-11-30",`, ""), `as_of: date "": want YYYY-MM-DD`},
		{"no sources", edit(`"sources": ["https://github.com/redis/redis/security/advisories/GHSA-0000-0000-0000"],`, ""), "sources: none listed"},
		{"no end_of_life", regexp.MustCompile(`(?s),\s*"end_of_life".*\}\}\}\}\}`).ReplaceAllString(operatorTable, ""), "end_of_life: missing"},
		{"not JSON", "cves:\n  - CVE-2099-0001\n", "line 1, column 1: invalid character 'c' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTestFile(t, "table.json", tc.content)
			for _, args := range [][]string{
				{"--web.listen-address=127.0.0.1:0", "--vuln.file=" + path},
				{"check", "--vuln.file=" + path, "127.0.0.1:1"},
			} {
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env = []string{"RSE_TEST_MAIN=1"}
				raw, err := cmd.CombinedOutput()
				out := strings.ReplaceAll(string(raw), `\"`, `"`) // logfmt escapes quotes
				if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 {
					t.Errorf("%v: want exit code 2, got %v\n%s", args, err, out)
				}
				if !strings.Contains(out, "--vuln.file: "+path+": ") || !strings.Contains(out, tc.want) {
					t.Errorf("%v: output does not name the file and say %q:\n%s", args, tc.want, out)
				}
			}
			// --config.check fails on it as start-up would (exit 1: not valid).
			args := []string{"--config.file=examples/config.yml", "--config.check", "--vuln.file=" + path}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = []string{"RSE_TEST_MAIN=1"}
			raw, err := cmd.CombinedOutput()
			if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 || !strings.Contains(string(raw), "error: --vuln.file: "+path+": ") || !strings.Contains(string(raw), tc.want) {
				t.Errorf("%v: want exit code 1 naming the file and saying %q, got %v:\n%s", args, tc.want, err, raw)
			}
		})
	}
	// A missing file, through the environment variable.
	cmd := exec.Command(os.Args[0], "--web.listen-address=127.0.0.1:0")
	cmd.Env = []string{"RSE_TEST_MAIN=1", "REDIS_SECURITY_EXPORTER_VULN_FILE=/nonexistent/table.json"}
	out, err := cmd.CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 || !strings.Contains(string(out), "--vuln.file: open /nonexistent/table.json: no such file or directory") {
		t.Errorf("missing file: %v\n%s", err, out)
	}
}

// formatFloat is how the text exposition format writes a gauge value.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
