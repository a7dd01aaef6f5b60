package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
)

// Audit is the outcome of the posture checks on one target.
type Audit struct {
	Target string `json:"target"`
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
	fs := collector.Evaluate(res.metrics, time.Now())
	collector.SortFindings(fs)
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.ID] = true
		a.Findings = append(a.Findings, AuditFinding{Check: f.ID, Severity: string(f.Severity), Failed: f.Failed, Title: f.Title, Remediation: f.Remediation})
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

// WriteJSON writes audits as {"targets": [...]}.
func WriteJSON(w io.Writer, audits []Audit) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // remediations quote ACL rules: ">PASSWORD", not "\u003ePASSWORD"
	return enc.Encode(struct {
		Targets []Audit `json:"targets"`
	}{audits})
}

// WriteText writes audits as readable tables: failing checks first, then
// the passing ones, then those not evaluated.
func WriteText(w io.Writer, audits []Audit) error {
	for i, a := range audits {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if !a.Up {
			fmt.Fprintf(w, "%s: NOT AUDITED: %s\n", a.Target, a.Error)
			continue
		}
		failing := 0
		for _, f := range a.Findings {
			if f.Failed {
				failing++
			}
		}
		fmt.Fprintf(w, "%s: %d of %d checks fail\n\n", a.Target, failing, len(a.Findings))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tCHECK\tSTATUS\tREMEDIATION")
		for _, f := range a.Findings {
			status, remediation := "ok", ""
			if f.Failed {
				status, remediation = "FAIL", f.Remediation
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Check, status, remediation)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(a.NotEvaluated) > 0 {
			fmt.Fprintf(w, "\nnot evaluated (inputs not collected): %s\n", strings.Join(a.NotEvaluated, ", "))
		}
	}
	return nil
}

// findingsTemplate renders an audit for the landing page; html/template
// escapes everything, target address and error text included.
var findingsTemplate = template.Must(template.New("findings").Parse(`
<h2>Findings for {{.Target}}</h2>
{{if not .Up}}<p class="rse-error">Not audited: {{.Error}}</p>{{else}}
<p>{{.Failing}} of {{len .Findings}} evaluated checks fail.{{if .NotEvaluated}} Not evaluated (inputs not collected): {{range $i, $c := .NotEvaluated}}{{if $i}}, {{end}}{{$c}}{{end}}.{{end}}</p>
<table class="rse-findings">
<thead><tr><th>Severity</th><th>Check</th><th>Status</th><th>Finding</th><th>Remediation</th></tr></thead>
<tbody>
{{range .Findings}}<tr class="rse-{{if .Failed}}fail{{else}}ok{{end}} rse-{{.Severity}}"><td>{{.Severity}}</td><td><code>{{.Check}}</code></td><td>{{if .Failed}}FAIL{{else}}ok{{end}}</td><td>{{.Title}}</td><td>{{if .Failed}}{{.Remediation}}{{end}}</td></tr>
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
