// Package check is the `redis_security_exporter check` command: it runs the
// posture checks of collector.Checks once, builds a Report, and writes it as
// text, JSON, SARIF 2.1.0 or JUnit XML; the exit code says whether anything
// at or above --fail-on failed.
//
// # Report model: the interface for every fact source
//
// A Report holds one TargetReport per audited target. Live audits (Kind
// Live, a running server scraped through exporter.Target) are built by
// RunLive. Another fact source, such as an offline audit of a redis.conf
// (Kind Offline), plugs in by building TargetReports itself and handing the
// Report to Write; no writer needs to change:
//
//   - evaluate the checks with collector.EvaluateWithObjects (the same check
//     table as live audits) and convert them with NewFindings;
//   - set Finding.Location (file and 1-based line) on the findings whose
//     cause is a line of the file: SARIF then locates the result there,
//     JUnit and text name it;
//   - list every check that could not be evaluated in NotEvaluated with a
//     Reason ("needs a running server", "needs --server-version"); checks
//     neither in Findings nor in NotEvaluated are reported by
//     FillNotEvaluated with ReasonNotCollected;
//   - set Error (and leave Findings empty) when the target could not be
//     audited at all: the exit code is then 2.
//
// Target is a URI for live targets (redis://host:port, rediss://...,
// unix:///path) and a file path for offline ones; SARIF uses it as the
// artifact location (a relative file path stays relative, so code-scanning
// tools resolve it against the repository).
package check

import (
	"sort"

	"github.com/redis-security/redis_security_exporter/collector"
)

// Kind says where a target's facts came from.
type Kind string

// Kinds of targets.
const (
	// Live: a running server, scraped once.
	Live Kind = "live"
	// Offline: configuration files, without a server.
	Offline Kind = "offline"
)

// Reasons for NotEvaluated.
const (
	// ReasonNotCollected: a live scrape did not collect the inputs (denied
	// by ACL, older server, collector disabled, not applicable).
	ReasonNotCollected = "inputs not collected"
	// ReasonNeedsServer: the check reads what only a running server knows
	// (ACL LOG, clients, the certificate on the wire).
	ReasonNeedsServer = "needs a running server"
)

// Report is the outcome of one check run.
type Report struct {
	Targets []TargetReport `json:"targets"`
}

// TargetReport is the outcome of the checks on one target.
type TargetReport struct {
	// Target is the URI (live) or the file path (offline) audited.
	Target string `json:"target"`
	Kind   Kind   `json:"kind"`
	// Server is the server's flavor and version when known ("redis
	// 7.0.15", "valkey 8.1.1"): scraped live, or given offline.
	Server string `json:"server,omitempty"`
	// Up is false when the target could not be audited; Error says why.
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
	// Findings are the evaluated checks, failing first (see Sort).
	Findings []Finding `json:"findings"`
	// NotEvaluated are the checks of collector.Checks not in Findings.
	NotEvaluated []NotEvaluated `json:"not_evaluated"`
	// Files are the files an offline audit read (the config, its includes,
	// the ACL file).
	Files []string `json:"files,omitempty"`
	// Notes say how the target was audited ("no --server-version: the
	// defaults of 8.2.0 were assumed").
	Notes []string `json:"notes,omitempty"`
	// Warnings are problems that did not stop the audit (an unknown
	// directive of an offline audit).
	Warnings []string `json:"warnings,omitempty"`
}

// Finding is one evaluated check.
type Finding struct {
	Check       string             `json:"check"`
	Severity    collector.Severity `json:"severity"`
	Failed      bool               `json:"failed"`
	Title       string             `json:"title"`
	Remediation string             `json:"remediation"`
	Objects     []collector.Object `json:"objects"`
	Location    *Location          `json:"location,omitempty"`
}

// Location is where in a file a finding comes from (offline audits).
type Location struct {
	File string `json:"file"`
	// Line is 1-based; 0 means the file as a whole (a directive that is
	// absent and takes its default).
	Line int `json:"line,omitempty"`
}

// NotEvaluated is a check that was not evaluated, and why.
type NotEvaluated struct {
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// NewFindings converts evaluated checks, keeping their objects ([] rather
// than null in JSON when there are none).
func NewFindings(fs []collector.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		objects := f.Objects
		if objects == nil {
			objects = []collector.Object{}
		}
		out = append(out, Finding{Check: f.ID, Severity: f.Severity, Failed: f.Failed,
			Title: f.Title, Remediation: f.Remediation, Objects: objects})
	}
	return out
}

// FillNotEvaluated adds every check of collector.Checks that is neither in
// Findings nor already in NotEvaluated, with reason.
func (t *TargetReport) FillNotEvaluated(reason string) {
	seen := map[string]bool{}
	for _, f := range t.Findings {
		seen[f.Check] = true
	}
	for _, n := range t.NotEvaluated {
		seen[n.Check] = true
	}
	if t.NotEvaluated == nil {
		t.NotEvaluated = []NotEvaluated{}
	}
	for _, c := range collector.Checks {
		if !seen[c.ID] {
			t.NotEvaluated = append(t.NotEvaluated, NotEvaluated{Check: c.ID, Reason: reason})
		}
	}
}

// Sort orders the findings failing first, then by severity and check id.
func (t *TargetReport) Sort() {
	sort.SliceStable(t.Findings, func(i, j int) bool {
		a, b := t.Findings[i], t.Findings[j]
		if a.Failed != b.Failed {
			return a.Failed
		}
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		return a.Check < b.Check
	})
}

// Failing counts the failing findings.
func (t TargetReport) Failing() int {
	n := 0
	for _, f := range t.Findings {
		if f.Failed {
			n++
		}
	}
	return n
}

// FailingAtOrAbove reports whether a check at or above min failed.
func (t TargetReport) FailingAtOrAbove(min collector.Severity) bool {
	for _, f := range t.Findings {
		if f.Failed && f.Severity.Rank() >= min.Rank() {
			return true
		}
	}
	return false
}

// ExitCode is the check command's exit code for the report: 2 when a target
// could not be audited, else 1 when a check at or above failOn failed, else
// 0.
func (r Report) ExitCode(failOn collector.Severity) int {
	code := 0
	for _, t := range r.Targets {
		switch {
		case !t.Up:
			return 2
		case t.FailingAtOrAbove(failOn):
			code = 1
		}
	}
	return code
}
