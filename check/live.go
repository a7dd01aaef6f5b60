package check

import (
	"context"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// NewTargetFunc builds the exporter's target for one address of the command
// line (with the --redis.* and --tls.* flags, or through a module).
type NewTargetFunc func(ctx context.Context, addr string) (*exporter.Target, error)

// RunLive audits each address once, in order, each within timeout, and
// returns the report. An address that cannot be turned into a target (a
// malformed address, one outside the module's allowlist) is an error: the
// command exits 2 without auditing the rest.
func RunLive(addrs []string, timeout time.Duration, newTarget NewTargetFunc) (Report, error) {
	var r Report
	for _, addr := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		target, err := newTarget(ctx, addr)
		if err != nil {
			cancel()
			return r, err
		}
		r.Targets = append(r.Targets, FromAudit(target.Audit(ctx)))
		cancel()
		target.Close()
	}
	return r, nil
}

// FromAudit converts a live audit (exporter.Target.Audit, also what the
// landing page shows) into a target report.
func FromAudit(a exporter.Audit) TargetReport {
	t := TargetReport{Target: a.Target, Kind: Live, Server: a.Server, Up: a.Up, Error: a.Error, Findings: []Finding{}}
	for _, f := range a.Findings {
		sev, _ := collector.ParseSeverity(f.Severity)
		t.Findings = append(t.Findings, Finding{Check: f.Check, Severity: sev, Failed: f.Failed,
			Title: f.Title, Remediation: f.Remediation, Objects: f.Objects})
	}
	if a.Up {
		for _, id := range a.NotEvaluated {
			t.NotEvaluated = append(t.NotEvaluated, NotEvaluated{Check: id, Reason: ReasonNotCollected})
		}
	}
	t.Sort()
	return t
}
