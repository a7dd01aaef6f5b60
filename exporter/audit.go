package exporter

import (
	"context"
	"html/template"
	"strings"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
)

// Audit is the outcome of the posture checks on one target.
type Audit struct {
	Target string `json:"target"`
	// Server is the server's flavor and version ("redis 7.0.15").
	Server string `json:"server,omitempty"`
	// Up is false when the target could not be audited; Error says why.
	Up       bool           `json:"up"`
	Error    string         `json:"error,omitempty"`
	Findings []AuditFinding `json:"findings"`
	// NotEvaluated are the checks whose inputs were not collected.
	NotEvaluated []string `json:"not_evaluated"`
}

// AuditFinding is one evaluated check.
type AuditFinding struct {
	Check       string `json:"check"`
	Severity    string `json:"severity"`
	Failed      bool   `json:"failed"`
	Title       string `json:"title"`
	Remediation string `json:"remediation"`
	// Objects are what a failing check is about (users, commands, CVEs,
	// listeners ...): never a secret or an attempted user name.
	Objects []collector.Object `json:"objects"`
}

// Audit scrapes the target (or joins the scrape in flight) and evaluates the
// posture checks.
func (t *Target) Audit(ctx context.Context) Audit {
	res := t.scrapeResult(ctx)
	a := Audit{Target: t.addr.String(), Up: res.err == nil, Findings: []AuditFinding{}, NotEvaluated: []string{}}
	if res.err != nil {
		a.Error = res.err.Error()
		return a
	}
	// Objects cost a second look at the index: only reports (check, the
	// landing page) pay for them, never /metrics.
	fs := collector.EvaluateWithObjects(res.metrics, time.Now(), collector.VulnerabilityTableOf(t.scrapers))
	a.Server = collector.ServerOf(res.metrics)
	collector.SortFindings(fs)
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.ID] = true
		objects := f.Objects
		if objects == nil {
			objects = []collector.Object{}
		}
		a.Findings = append(a.Findings, AuditFinding{Check: f.ID, Severity: string(f.Severity), Failed: f.Failed, Title: f.Title, Remediation: f.Remediation, Objects: objects})
	}
	for _, c := range collector.Checks {
		if !seen[c.ID] {
			a.NotEvaluated = append(a.NotEvaluated, c.ID)
		}
	}
	return a
}

// Failing reports whether a check at or above min failed.
func (a Audit) Failing(min collector.Severity) bool {
	for _, f := range a.Findings {
		if s, _ := collector.ParseSeverity(f.Severity); f.Failed && s.Rank() >= min.Rank() {
			return true
		}
	}
	return false
}

// findingsTemplate renders an audit for the landing page; html/template
// escapes everything, target address and error text included.
var findingsTemplate = template.Must(template.New("findings").Parse(`
<h2>Findings for {{.Target}}</h2>
{{if not .Up}}<p class="rse-error">Not audited: {{.Error}}</p>{{else}}
<p>{{.Failing}} of {{len .Findings}} evaluated checks fail.{{if .NotEvaluated}} Not evaluated (inputs not collected): {{range $i, $c := .NotEvaluated}}{{if $i}}, {{end}}{{$c}}{{end}}.{{end}}</p>
<table class="rse-findings">
<thead><tr><th>Severity</th><th>Check</th><th>Status</th><th>Finding</th><th>Objects</th><th>Remediation</th></tr></thead>
<tbody>
{{range .Findings}}<tr class="rse-{{if .Failed}}fail{{else}}ok{{end}} rse-{{.Severity}}"><td>{{.Severity}}</td><td><code>{{.Check}}</code></td><td>{{if .Failed}}FAIL{{else}}ok{{end}}</td><td>{{.Title}}</td><td class="rse-objects">{{if .Failed}}{{range $i, $o := .Objects}}{{if $i}}, {{end}}<code>{{$o.String}}</code>{{end}}{{end}}</td><td>{{if .Failed}}{{.Remediation}}{{end}}</td></tr>
{{end}}</tbody>
</table>{{end}}
`))

// FindingsCSS styles the landing page's findings table.
const FindingsCSS = `
table.rse-findings { border-collapse: collapse; margin-top: 0.5em; }
table.rse-findings th, table.rse-findings td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
tr.rse-fail td:nth-child(3) { color: #fff; background: #c0392b; font-weight: bold; }
tr.rse-ok td:nth-child(3) { color: #1e7e34; }
tr.rse-fail.rse-critical td:first-child { font-weight: bold; color: #c0392b; }
p.rse-error { color: #c0392b; font-weight: bold; }
`

// HTML renders the audit as the landing page's findings section.
func (a Audit) HTML() (string, error) {
	failing := 0
	for _, f := range a.Findings {
		if f.Failed {
			failing++
		}
	}
	var b strings.Builder
	err := findingsTemplate.Execute(&b, struct {
		Audit
		Failing int
	}{a, failing})
	return b.String(), err
}
