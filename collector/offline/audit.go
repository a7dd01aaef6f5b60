// Package offline audits a redis.conf / valkey.conf (and its ACL file)
// without a server: one check table, two fact sources. It answers the
// collectors' own plan from the files (see server) and runs the same
// scrapers and the same collector.Checks on the result as a live audit, so
// a check cannot mean one thing live and another offline.
//
// Checks whose inputs only a running server has (ACL LOG, the Lua sandbox,
// the certificate on the wire) are reported as not evaluated, as are the
// version checks when no --server-version is given.
package offline

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/check"
	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/redisconf"
)

// Options are an offline audit's inputs.
type Options struct {
	// ConfigFile is the redis.conf or valkey.conf.
	ConfigFile string
	// ACLFile is used instead of the configuration's aclfile directive
	// (whose path is where the server runs).
	ACLFile string
	// ServerVersion is "7.2.4", "redis:8.0.2" or "valkey:8.1.1"; "" assumes
	// the defaults of DefaultVersion and evaluates no version check.
	ServerVersion string
	// Collector holds the collectors' settings (weak passwords, dangerous
	// commands, the vulnerability table).
	Collector collector.Options
	// Now is the evaluation time.
	Now time.Time
}

// DefaultVersion is the server assumed without --server-version: its
// defaults and command categories.
const DefaultVersion = "redis:8.0.6"

// ReasonNotInFiles is why another check is not evaluated: it does not
// apply (replica_writable on a primary, TLS checks without TLS) or the files
// do not decide its inputs (dir absent, an unreadable aclfile).
const ReasonNotInFiles = "not applicable, or not decided by the files"

// ReasonNeedsVersion is why the version checks are not evaluated without
// --server-version.
const ReasonNeedsVersion = "needs --server-version"

// needsServer are the checks whose inputs a configuration file cannot give.
var needsServer = map[string]bool{
	"lua_sandbox_escape":       true, // the Lua library the binary was built with
	"tls_certificate_expiring": true, // the certificate the server presents
}

// versionChecks are evaluated only with an explicit version.
var versionChecks = map[string]bool{"known_vulnerabilities": true, "version_end_of_life": true}

// versionMetrics are the series the version checks read.
var versionMetrics = map[string]bool{"vulnerability": true, "known_vulnerabilities": true, "version_end_of_life": true}

// offlineScrapers are the collectors whose inputs a file can give.
// acllog is among them for acllog-max-len; its ACL LOG request is answered
// "needs a running server" and that error is not a warning.
// commandlog is among them for its settings; its COMMANDLOG requests are
// answered the same way.
var offlineScrapers = map[string]bool{"info": true, "config": true, "acl": true, "acllog": true, "commands": true, "commandlog": true}

// ParseServerVersion parses --server-version: "7.2.4" and "redis:7.2.4" are
// Redis, "valkey:8.1.1" Valkey.
func ParseServerVersion(s string) (redisinfo.Flavor, redisinfo.Version, error) {
	flavor, ver := redisinfo.FlavorRedis, s
	if f, v, ok := strings.Cut(s, ":"); ok {
		switch strings.ToLower(f) {
		case "redis":
		case "valkey":
			flavor = redisinfo.FlavorValkey
		default:
			return "", redisinfo.Version{}, fmt.Errorf("--server-version %q: the flavor must be redis or valkey", s)
		}
		ver = v
	}
	v, err := redisinfo.ParseVersion(ver)
	if err != nil {
		return "", redisinfo.Version{}, fmt.Errorf("--server-version %q: want [redis:|valkey:]MAJOR.MINOR.PATCH", s)
	}
	if flavor == redisinfo.FlavorRedis && !v.AtLeast(6, 0) || flavor == redisinfo.FlavorValkey && !v.AtLeast(7, 2) {
		return "", redisinfo.Version{}, fmt.Errorf("--server-version %q: supported are Redis 6.0+ and Valkey 7.2+", s)
	}
	return flavor, v, nil
}

// Audit audits the files and returns the target's report; a file that
// cannot be read or parsed makes a report that is not Up, whose Error names
// the file and line.
func Audit(o Options) check.TargetReport {
	t := check.TargetReport{Target: o.ConfigFile, Kind: check.Offline, Findings: []check.Finding{}}
	fail := func(err error) check.TargetReport {
		t.Up, t.Error = false, err.Error()
		t.Findings = []check.Finding{}
		return t
	}
	versionGiven := o.ServerVersion != ""
	v := o.ServerVersion
	if !versionGiven {
		v = DefaultVersion
	}
	flavor, version, err := ParseServerVersion(v)
	if err != nil {
		return fail(err)
	}
	t.Server = string(flavor) + " " + version.String()
	if !versionGiven {
		t.Server = ""
		t.Notes = append(t.Notes, fmt.Sprintf("no --server-version: the defaults of %s were assumed and the version checks are not evaluated", strings.Replace(DefaultVersion, ":", " ", 1)))
	}
	conf, err := redisconf.Load(o.ConfigFile)
	if err != nil {
		return fail(err)
	}
	t.Files = append(t.Files, conf.Files...)
	tables, err := loadCommandTables()
	if err != nil {
		return fail(err)
	}
	table, note, err := tables.tableFor(flavor, version)
	if err != nil {
		return fail(err)
	}
	if note != "" && versionGiven {
		t.Notes = append(t.Notes, note)
	}
	srv, err := newServer(conf, flavor, version, table, o.ACLFile)
	if err != nil {
		return fail(err)
	}
	if o.ACLFile != "" {
		t.Files = append(t.Files, o.ACLFile)
	} else if d, ok := conf.Last("aclfile"); ok && srv.aclErr == nil && len(d.Args) == 1 {
		t.Files = append(t.Files, d.Args[0])
	}
	t.Warnings = append(t.Warnings, srv.warnings...)
	if srv.aclErr != nil {
		t.Warnings = append(t.Warnings, srv.aclErr.Error())
	}
	if _, ok := srv.params["dir"]; !ok {
		t.Notes = append(t.Notes, "no dir directive: the server writes its dump to its working directory, so persistence_path_suspicious is not evaluated")
	}

	metrics, errs := scrape(srv, o.Collector)
	for _, e := range errs {
		t.Warnings = append(t.Warnings, e)
	}
	if !versionGiven {
		kept := metrics[:0]
		for _, m := range metrics {
			if !versionMetrics[metricName(m)] {
				kept = append(kept, m)
			}
		}
		metrics = kept
	}
	fs := collector.EvaluateWithObjects(metrics, o.Now, o.Collector.Vulnerabilities)
	t.Findings = check.NewFindings(fs)
	t.Up = true
	for i := range t.Findings {
		t.Findings[i].Location = srv.locate(t.Findings[i])
	}
	for _, c := range collector.Checks {
		switch {
		case needsServer[c.ID]:
			t.NotEvaluated = append(t.NotEvaluated, check.NotEvaluated{Check: c.ID, Reason: check.ReasonNeedsServer})
		case versionChecks[c.ID] && !versionGiven:
			t.NotEvaluated = append(t.NotEvaluated, check.NotEvaluated{Check: c.ID, Reason: ReasonNeedsVersion})
		}
	}
	t.FillNotEvaluated(ReasonNotInFiles)
	t.Sort()
	return t
}

// scrape runs the offline collectors over the server's answers as the
// exporter runs them over a live server's: the plan, its follow-up round,
// then each scraper. Collector errors are returned as warnings.
func scrape(srv *server, opts collector.Options) ([]prometheus.Metric, []string) {
	info, _ := redisinfo.Parse(srv.info()).Server()
	facts := collector.Facts{Known: true, Server: info}
	var scrapers []collector.Scraper
	for _, e := range collector.All(opts) {
		if offlineScrapers[e.Scraper.Name()] {
			scrapers = append(scrapers, e.Scraper)
		}
	}
	exec := func(p *collector.Plan, calls []collector.Call) *collector.Replies {
		results := make([]collector.Result, len(calls))
		for i, c := range calls {
			results[i] = srv.answer(c)
		}
		r, _ := collector.NewReplies(p, calls, results) // lengths are equal by construction
		return r
	}
	p := collector.NewPlan(facts)
	for _, s := range scrapers {
		s.Plan(p)
	}
	var warnings []string
	if err := p.Err(); err != nil {
		warnings = append(warnings, err.Error())
	}
	r := exec(p, p.Calls())
	if fp := r.NewFollowUpPlan(); !fp.Empty() {
		r.Merge(exec(fp, fp.FollowUpCalls()))
	}
	fp := r.NewFollowUpPlan()
	for _, s := range scrapers {
		if f, ok := s.(collector.FollowUpPlanner); ok {
			f.FollowUp(r, fp)
		}
	}
	if !fp.Empty() {
		r.Merge(exec(fp, fp.FollowUpCalls()))
	}
	var out []prometheus.Metric
	for _, s := range scrapers {
		err := s.Scrape(r, func(m prometheus.Metric) { out = append(out, m) }, log.NewNopLogger())
		if err != nil && !strings.Contains(err.Error(), errNeedsServer) {
			warnings = append(warnings, fmt.Sprintf("%s: %v", s.Name(), err))
		}
	}
	return out, warnings
}

// metricName is a metric's name without the namespace.
func metricName(m prometheus.Metric) string {
	s := m.Desc().String()
	const p = `fqName: "` + collector.Namespace + `_`
	i := strings.Index(s, p)
	if i < 0 {
		return ""
	}
	rest := s[i+len(p):]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// causes are, per check, the directives that decide it, in order of
// preference: a finding is located at the last of them in the files.
var causes = map[string][]string{
	"exposed_without_auth":         {"bind", "protected-mode", "requirepass"},
	"persistence_path_suspicious":  {"dir", "dbfilename"},
	"default_user_nopass":          {"requirepass"},
	"unixsocket_world_accessible":  {"unixsocketperm"},
	"tls_weak_protocol":            {"tls-protocols"},
	"bind_all_interfaces":          {"bind"},
	"protected_mode_disabled":      {"protected-mode"},
	"tls_disabled":                 {"tls-port", "bind"},
	"plaintext_port_with_tls":      {"port"},
	"debug_command_enabled":        {"enable-debug-command"},
	"module_command_enabled":       {"enable-module-command"},
	"protected_configs_enabled":    {"enable-protected-configs"},
	"replica_writable":             {"replica-read-only", "slave-read-only"},
	"tls_client_auth_not_required": {"tls-auth-clients"},
	"dangerous_commands_available": {"rename-command"},
	"output_buffer_unlimited":      {"client-output-buffer-limit"},
	"no_idle_timeout":              {"timeout"},
	"maxmemory_unlimited":          {"maxmemory"},
	"acl_log_disabled":             {"acllog-max-len"},
	"commandlog_disabled": {"commandlog-execution-slower-than", "slowlog-log-slower-than", "commandlog-slow-execution-max-len", "slowlog-max-len",
		"commandlog-request-larger-than", "commandlog-large-request-max-len", "commandlog-reply-larger-than", "commandlog-large-reply-max-len"},
}

// userChecks are located at the definition of their first user.
var userChecks = map[string]bool{
	"user_nopass": true, "user_weak_password": true, "user_shared_password": true,
	"user_unrestricted": true, "default_user_nopass": true, "dangerous_command_default_user": true,
	"exposed_without_auth": true,
}

// locate returns where a failing finding comes from: the directive that
// decides it, else the main file as a whole (a default in effect).
func (s *server) locate(f check.Finding) *check.Location {
	if !f.Failed {
		return nil
	}
	if userChecks[f.Check] {
		name := "default"
		for _, o := range f.Objects {
			if o.Kind == "user" {
				name = o.Name
				break
			}
		}
		for _, u := range s.users {
			if u.name == name && u.at.Line > 0 && f.Check != "exposed_without_auth" {
				return &check.Location{File: u.at.File, Line: u.at.Line}
			}
		}
	}
	var best *redisconf.Directive
	for _, name := range causes[f.Check] {
		if d, ok := s.conf.Last(name); ok && (best == nil || later(s.conf, d, *best)) {
			d := d
			best = &d
		}
	}
	if best != nil {
		return &check.Location{File: best.File, Line: best.Line}
	}
	return &check.Location{File: s.conf.Files[0]}
}

// later reports whether a comes after b in the order the server applies
// the directives.
func later(c *redisconf.Config, a, b redisconf.Directive) bool {
	ia, ib := -1, -1
	for i, d := range c.Directives {
		if d.File == a.File && d.Line == a.Line {
			ia = i
		}
		if d.File == b.File && d.Line == b.Line {
			ib = i
		}
	}
	return ia > ib
}
