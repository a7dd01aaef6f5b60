package collector

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
)

var (
	commandAvailableDesc = newDesc("command_available",
		"1 if the command exists under its own name; 0 = renamed or disabled with rename-command (COMMAND INFO).", "command")
	commandAllowedDesc = newDesc("command_allowed",
		"1 if the enabled ACL user may really run the command: its ACL permits it (ACL DRYRUN on 7.0+, rule evaluation on 6.x), the command is available, and enable-debug-command/enable-module-command permit it. Disabled users are absent.",
		"user", "command")
	commandAllowedUsersDesc = newDesc("command_allowed_users",
		"Number of enabled ACL users who may run the command. Omitted while some users are still unevaluated.", "command")
	commandUsersNotEvaluatedDesc = newDesc("command_users_not_evaluated",
		"Enabled ACL users whose command permissions were not evaluated: beyond --commands.max-users, or still queued for ACL DRYRUN.")
)

// maxDryRunsPerScrape bounds the ACL DRYRUN calls one scrape sends: with
// many users the first evaluation is spread over a few scrapes instead of
// blocking the server in one burst. Results are cached per user until the
// user's ACL LIST line (or the server's run_id) changes.
const maxDryRunsPerScrape = 2000

// commandState is the commands collector's memory of a target.
type commandState struct {
	// infoRunID is the run_id the command table below was read from:
	// rename-command only changes with a restart.
	infoRunID string
	table     *commandTable // shared with the other targets of the same table
	// perms caches, per user, the DRYRUN answers for one version of the
	// user's ACL LIST line on one run of the server.
	perms map[string]userPerms
	// dryRunDeniedRunID is the run_id on which the exporter's own user got
	// NOPERM for ACL DRYRUN: on that run the rules are evaluated locally
	// instead, rather than causing a denial every scrape.
	dryRunDeniedRunID string
	// emitted caches, per user, the command_allowed series of the last
	// scrape with the key they were built under: const metrics are
	// immutable, and building 26 series per user is most of a 1000-user
	// scrape's cost when nothing changed.
	emitted map[string]userSeries[seriesKey]
}

// userSeries are one user's series and what they were built from.
type userSeries[K comparable] struct {
	key     K
	metrics []prometheus.Metric
	// allowed are the commands whose series is 1, as indexes in Names
	// (for the per-command user counts).
	allowed []int
}

type userPerms struct {
	key     permKey
	allowed map[string]bool // command -> ACL permits it
}

// Commands reports which dangerous commands exist and which enabled users may
// run them.
type Commands struct {
	// Names are the commands checked, upper case.
	Names []string
	// MaxUsers caps the enabled users evaluated (in name order).
	MaxUsers int
}

// Name implements Scraper.
func (Commands) Name() string { return "commands" }

// Help implements Scraper.
func (Commands) Help() string {
	return "Collect which dangerous commands exist (COMMAND INFO, cached per server run) and which enabled ACL users may run them (ACL DRYRUN on 7.0+, cached per ACL LIST line; rule evaluation on 6.x)."
}

// Describe implements Scraper.
func (Commands) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{commandAvailableDesc, commandAllowedDesc, commandAllowedUsersDesc, commandUsersNotEvaluatedDesc} {
		ch <- d
	}
}

func (c Commands) commandInfoArgs() []string {
	return append([]string{"COMMAND", "INFO"}, c.Names...)
}

// Plan implements Scraper: ACL LIST and the gates every scrape, COMMAND INFO
// only when the cached table is not from the server's current run.
func (c Commands) Plan(p *Plan) {
	p.Command("ACL", "LIST")
	p.Config("enable-debug-command", "enable-module-command")
	st := p.State().commands
	if f := p.Facts(); !f.Known || st.table == nil || st.infoRunID != f.Server.RunID {
		p.Command(c.commandInfoArgs()...)
	}
}

// FollowUp implements FollowUpPlanner: COMMAND INFO when this scrape revealed
// a restart, and ACL DRYRUN for users not evaluated in their current form.
func (c Commands) FollowUp(r *Replies, p *Plan) {
	facts := r.Facts()
	if !facts.Known {
		return
	}
	st := r.State().commands
	if st.table == nil || st.infoRunID != facts.Server.RunID {
		var se ServerError
		if _, err := r.Command(c.commandInfoArgs()...); err != nil && !errors.As(err, &se) { // not requested this round; a refusal is not retried
			p.Command(c.commandInfoArgs()...)
		}
	}
	if !facts.Server.CompatVersion.AtLeast(7, 0) || st.dryRunDeniedRunID == facts.Server.RunID {
		return // no DRYRUN (6.x, or refused): rules are evaluated locally
	}
	users, lines, err := aclUsersWithLines(r)
	if err != nil {
		return
	}
	budget := maxDryRunsPerScrape
	for _, u := range c.evaluated(users) {
		if p, ok := st.perms[u.Name]; ok && p.key == (permKey{facts.Server.RunID, lines[u.Name]}) {
			continue
		}
		probes := c.probes()
		if budget < len(probes) {
			break
		}
		budget -= len(probes)
		for _, pr := range probes {
			p.Command(append([]string{"ACL", "DRYRUN", u.Name}, pr.Args...)...)
		}
	}
}

// probes returns the DRYRUN probe of every checked command.
func (c Commands) probes() []aclrule.Probe {
	out := make([]aclrule.Probe, 0, len(c.Names))
	for _, n := range c.Names {
		out = append(out, probeFor(n))
	}
	return out
}

// probeFor returns the representative invocation of a command: a dangerous
// subcommand of containers (CONFIG SET, MODULE LOAD ...), arguments of valid
// arity (DRYRUN checks arity).
func probeFor(name string) aclrule.Probe {
	for _, p := range aclrule.DangerousCommandProbes {
		if strings.EqualFold(p.Command, name) {
			return p
		}
	}
	return aclrule.Probe{Command: strings.ToUpper(name), Args: []string{name}}
}

// evaluated returns the enabled users whose permissions are evaluated: the
// first MaxUsers by name.
func (c Commands) evaluated(users []aclrule.User) []aclrule.User {
	// Read only: the users themselves when all are enabled (a User is a
	// few hundred bytes, and a thousand are filtered twice a scrape).
	enabled := 0
	for _, u := range users {
		if u.Enabled {
			enabled++
		}
	}
	out := users
	if enabled != len(users) {
		out = make([]aclrule.User, 0, enabled)
		for _, u := range users {
			if u.Enabled {
				out = append(out, u)
			}
		}
	}
	if c.MaxUsers >= 0 && len(out) > c.MaxUsers {
		out = out[:c.MaxUsers]
	}
	return out
}

// permKey is a cache key: the run of the server, and the SHA-256 of the
// user's ACL LIST line (aclList.lines). Compared field by field: a string
// of both, built per user and scrape, was a tenth of a probe's allocations.
type permKey struct{ runID, lineSum string }

// seriesKey is what a user's command_allowed series depend on: its ACL
// decisions (permKey), whether DRYRUN or the local evaluation made them, and
// each command's availability and gate (sig, one byte per command).
type seriesKey struct {
	perm   permKey
	dryRun bool
	sig    string
}

// Scrape implements Scraper.
func (c Commands) Scrape(r *Replies, send Send, logger log.Logger) error {
	e := r.emitter(send)
	facts := r.Facts()
	if !facts.Known {
		return errors.New("server unknown (INFO failed)")
	}
	st := r.State().commands
	var errs []error

	// The command table: this scrape's reply, else the cache of this run.
	// A steady scrape sent no COMMAND INFO and has the table of this run:
	// the reply's key (its 26 names) is then not built at all.
	fresh := st.table != nil && st.infoRunID == facts.Server.RunID
	if !fresh || r.requestedName("command|info") {
		v, err := r.Command(c.commandInfoArgs()...)
		switch {
		case err == nil:
			arr, ok := v.([]any)
			if !ok {
				return fmt.Errorf("COMMAND INFO: unexpected reply type %T", v)
			}
			info, err := aclrule.ParseCommandInfo(arr)
			if err != nil {
				return err
			}
			st.table, st.infoRunID = shareCommandTable(info), facts.Server.RunID
		case !fresh:
			return err
		}
	}
	available := make([]bool, len(c.Names)) // by index in c.Names
	for i, n := range c.Names {
		_, ok := st.table.lookup(n)
		available[i] = ok
		e.gauge(commandAvailableDesc, boolValue(ok), n)
	}

	gates, err := commandGates(r)
	if err != nil {
		errs = append(errs, err)
	}

	users, lines, err := aclUsersWithLines(r)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	evaluated := c.evaluated(users)
	enabled := 0
	for _, u := range users {
		if u.Enabled {
			enabled++
		}
	}
	notEvaluated := enabled - len(evaluated)
	if notEvaluated > 0 {
		level.Warn(logger).Log("msg", "more enabled ACL users than --commands.max-users: some are not evaluated", "users", enabled, "max_users", c.MaxUsers)
	}

	runID := facts.Server.RunID
	dryRun := facts.Server.CompatVersion.AtLeast(7, 0) && st.dryRunDeniedRunID != runID
	if st.dryRunDeniedRunID == runID {
		r.MarkDenied("acl|dryrun") // still a blind spot, though the rules are evaluated locally
	}
	// Besides the user's line and the run, a user's series depend on
	// each command's availability and gate, and on whether DRYRUN or the
	// local evaluation decided.
	// One byte per command (c.Names is fixed): its availability, gate and
	// whether the gate is known.
	sigBytes := make([]byte, len(c.Names))
	for i, n := range c.Names {
		gate, known := gates.allows(n)
		sigBytes[i] = '0' | boolBit(available[i]) | boolBit(gate)<<1 | boolBit(known)<<2
	}
	sig := string(sigBytes)
	if st.emitted == nil {
		st.emitted = map[string]userSeries[seriesKey]{}
	}
	counts := make([]int, len(c.Names)) // by index in c.Names
	var pending int
	for _, u := range evaluated {
		perm := permKey{runID, lines[u.Name]}
		if e, ok := st.emitted[u.Name]; ok && e.key == (seriesKey{perm, dryRun, sig}) {
			for _, m := range e.metrics {
				send(m)
			}
			for _, i := range e.allowed {
				counts[i]++
			}
			continue
		}
		var permits map[string]bool
		if dryRun {
			var denied bool
			permits, denied = c.dryRunResults(r, st, u, perm)
			if denied {
				level.Warn(logger).Log("msg", "the exporter's user may not run ACL DRYRUN: evaluating ACL rules locally instead (grant +acl|dryrun for the server's own answer)")
				st.dryRunDeniedRunID, dryRun = runID, false
				st.perms = nil
				r.MarkDenied("acl|dryrun")
			}
		}
		if !dryRun {
			permits = c.evaluateRules(st.table, u)
		}
		if permits == nil {
			pending++
			delete(st.emitted, u.Name)
			continue
		}
		e := userSeries[seriesKey]{key: seriesKey{perm, dryRun, sig}}
		for i, n := range c.Names {
			allowed, known := permits[n]
			if !known {
				continue
			}
			gate, gateKnown := gates.allows(n)
			if !gateKnown {
				continue
			}
			v := allowed && available[i] && gate
			m := sharedGauge(commandAllowedDesc, boolValue(v), u.Name, n)
			send(m)
			e.metrics = append(e.metrics, m)
			if v {
				counts[i]++
				e.allowed = append(e.allowed, i)
			}
		}
		st.emitted[u.Name] = e
	}
	e.gauge(commandUsersNotEvaluatedDesc, float64(notEvaluated+pending))
	if pending == 0 {
		for i, n := range c.Names {
			if _, known := gates.allows(n); known {
				e.gauge(commandAllowedUsersDesc, float64(counts[i]), n)
			}
		}
	}
	// Forget users that no longer exist, or are no longer evaluated.
	for name := range st.perms {
		if _, ok := lines[name]; !ok {
			delete(st.perms, name)
		}
	}
	if len(st.emitted) > len(evaluated) {
		keep := make(map[string]bool, len(evaluated))
		for _, u := range evaluated {
			keep[u.Name] = true
		}
		for name := range st.emitted {
			if !keep[name] {
				delete(st.emitted, name)
			}
		}
	}
	return errors.Join(errs...)
}

// dryRunResults returns the user's ACL decisions: cached, or from this
// scrape's DRYRUN replies (then cached). nil when not evaluated yet; denied
// when the exporter's user may not run ACL DRYRUN.
func (c Commands) dryRunResults(r *Replies, st *commandState, u aclrule.User, key permKey) (allowed map[string]bool, denied bool) {
	if p, ok := st.perms[u.Name]; ok && p.key == key {
		return p.allowed, false
	}
	allowed = map[string]bool{}
	for _, n := range c.Names {
		pr := probeFor(n)
		v, err := r.Command(append([]string{"ACL", "DRYRUN", u.Name}, pr.Args...)...)
		if IsDenied(err) {
			return nil, true
		}
		if err != nil && !isReplyError(err) {
			return nil, false // not sent this scrape (budget) or the connection failed
		}
		ok, known := aclrule.ParseDryRun(v, unwrapServerError(err))
		switch {
		case known:
			allowed[n] = ok
		case err != nil && strings.Contains(err.Error(), "Command '") && strings.Contains(err.Error(), "not found"):
			allowed[n] = false // renamed or disabled: it cannot run under this name
		}
		// Anything else leaves the command unknown for this user: omitted.
	}
	if st.perms == nil {
		st.perms = map[string]userPerms{}
	}
	st.perms[u.Name] = userPerms{key: key, allowed: allowed}
	return allowed, false
}

// evaluateRules decides on 6.x, which has no DRYRUN, from the user's rules and
// the commands' ACL categories.
func (c Commands) evaluateRules(table *commandTable, u aclrule.User) map[string]bool {
	out := map[string]bool{}
	for _, n := range c.Names {
		ci, ok := table.lookup(n)
		if !ok {
			out[n] = false // not available under this name
			continue
		}
		// The same command line DRYRUN would judge: its first argument is
		// what cmd|arg rules compare with.
		first := probeFor(n).FirstArg()
		out[n] = u.Allows(strings.ToLower(n), strings.ToLower(first), ci.CategoriesFor(first))
	}
	return out
}

// gates are the enable-* settings that block commands whatever ACL says
// (ACL DRYRUN ignores them).
type gates struct {
	debug, module       string // no, local, yes; "" when unknown
	debugErr, moduleErr bool
}

func commandGates(r *Replies) (gates, error) {
	var g gates
	var errs []error
	modern := r.Facts().Server.CompatVersion.AtLeast(7, 0)
	read := func(name string, dst *string, failed *bool) {
		v, ok, err := r.Config(name)
		switch {
		case err != nil:
			*failed = true
			errs = append(errs, err)
		case ok:
			*dst = strings.ToLower(v)
		case !modern:
			*dst = "yes" // 6.x has no gate
		}
	}
	read("enable-debug-command", &g.debug, &g.debugErr)
	read("enable-module-command", &g.module, &g.moduleErr)
	return g, errors.Join(errs...)
}

// allows reports whether the gates let the command run at all ("local"
// counts as allowed: the capability exists for local clients). known is
// false when the gate could not be read.
func (g gates) allows(command string) (allowed, known bool) {
	var v string
	switch strings.ToUpper(command) {
	case "DEBUG":
		v = g.debug
	case "MODULE":
		v = g.module
	default:
		return true, true
	}
	if v == "" {
		return false, false
	}
	return v != "no", true
}

// aclUsersWithLines returns the users and the SHA-256 of each user's ACL LIST
// line (cache keys).
func aclUsersWithLines(r *Replies) ([]aclrule.User, map[string]string, error) {
	a, err := r.aclList()
	if err != nil {
		return nil, nil, err
	}
	return a.users, a.lines, nil
}

func boolBit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func isReplyError(err error) bool {
	var se ServerError
	return errors.As(err, &se)
}

func unwrapServerError(err error) error {
	var se ServerError
	if errors.As(err, &se) {
		return se
	}
	return err
}
