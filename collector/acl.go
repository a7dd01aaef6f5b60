package collector

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
)

var (
	authRequiredDesc = newDesc("auth_required",
		"0 when the default user is enabled with nopass: any connection runs commands without AUTH.")
	aclUsersDesc = newDesc("acl_users",
		"Number of ACL users.", "enabled")
	aclUserEnabledDesc = newDesc("acl_user_enabled",
		"1 if the ACL user is on.", "user")
	aclUserNopassDesc = newDesc("acl_user_nopass",
		"1 if the ACL user accepts any password.", "user")
	aclUserUnrestrictedDesc = newDesc("acl_user_unrestricted",
		"1 if the user's rules (root or any selector) grant every command (+@all), key (~*) or channel (&*).",
		"user", "scope")
	aclUserWeakPasswordDesc = newDesc("acl_user_weak_password",
		"1 if one of the user's passwords is a known weak or default password (bundled list and --acl.weak-passwords-file).",
		"user")
	aclUserSharedPasswordDesc = newDesc("acl_user_shared_password",
		"1 if one of the user's passwords is also another user's.", "user")
	exposedWithoutAuthDesc = newDesc("exposed_without_auth",
		"1 when a listener is reachable beyond loopback, auth is not required, and protected mode is not in effect (6.x: only without bind; 7.0+: whenever default is nopass).")
)

// aclUserKey is what a user's acl series depend on: its ACL LIST line (by
// SHA-256), whether another user shares one of its passwords, and the
// version's channel default.
type aclUserKey struct {
	lineSum                  string
	shared, channelsImplicit bool
}

// ACL collects users and their posture from ACL LIST, and decides whether the
// server is exposed without authentication.
type ACL struct {
	// WeakPasswords, when set, flags users whose password hash is in it;
	// when nil, acl_user_weak_password is not reported.
	WeakPasswords PasswordSet
}

// Name implements Scraper.
func (ACL) Name() string { return "acl" }

// Help implements Scraper.
func (ACL) Help() string {
	return "Collect ACL users (enabled, nopass, unrestricted, weak or shared password), whether AUTH is required, and whether the server is exposed without auth, from ACL LIST and CONFIG GET."
}

// Plan implements Scraper.
func (ACL) Plan(p *Plan) {
	p.Command("ACL", "LIST")
	p.Config("bind", "port", "tls-port", "protected-mode")
}

// Describe implements Scraper.
func (ACL) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{authRequiredDesc, aclUsersDesc, aclUserEnabledDesc,
		aclUserNopassDesc, aclUserUnrestrictedDesc, aclUserWeakPasswordDesc,
		aclUserSharedPasswordDesc, exposedWithoutAuthDesc} {
		ch <- d
	}
}

// Scrape implements Scraper.
func (a ACL) Scrape(r *Replies, send Send, logger log.Logger) error {
	e := r.emitter(send)
	users, err := ACLUsers(r, logger)
	if err != nil {
		return err
	}
	facts := r.Facts()
	// Redis 6.0 has no channel permissions: every user may use every channel.
	channelsImplicit := facts.Known && !facts.Server.CompatVersion.AtLeast(6, 2)
	st := r.State()
	// A reused ACL LIST reply (--acl.list-max-age) is the very parse of the
	// previous scrape: the per-user series are the previous scrape's, sent
	// without walking a thousand users again.
	reused := r.acl != nil && r.acl == st.aclCache.parsed
	if out := &st.aclOut; reused && out.list == r.acl && out.channelsImplicit == channelsImplicit {
		for _, m := range out.metrics {
			send(m)
		}
		return a.scrapeTotals(r, e, out.enabled, out.hasDefault, out.openDefault)
	}
	st.aclOut = aclOutput{}

	// How many users hold each password hash. The hashes are compared
	// here and never leave this function.
	holders := map[string]int{}
	for _, u := range users {
		for _, h := range dedupe(u.PasswordHashes) {
			holders[h]++
		}
	}
	_, lines, _ := aclUsersWithLines(r)
	var sent []prometheus.Metric
	if reused {
		sent = make([]prometheus.Metric, 0, 8*len(users))
		send = func(m prometheus.Metric) {
			sent = append(sent, m)
			e.send(m)
		}
	}
	if st.aclUsers == nil {
		st.aclUsers = map[string]userSeries[aclUserKey]{}
	}
	var def *aclrule.User
	enabled := map[bool]int{}
	for i, u := range users {
		enabled[u.Enabled]++
		if u.Name == "default" {
			def = &users[i]
		}
		shared := anyHash(u, func(h string) bool { return holders[h] > 1 })
		// A user's series depend on its line (flags, rules, hashes), on
		// whether another user shares a password, and on the version's
		// channel default; the weak-password list is fixed for the
		// exporter's life. The line's hash, never the line, is kept.
		key := aclUserKey{lineSum: lines[u.Name], shared: shared, channelsImplicit: channelsImplicit}
		if cached, ok := st.aclUsers[u.Name]; ok && cached.key == key {
			for _, m := range cached.metrics {
				send(m)
			}
			continue
		}
		us := userSeries[aclUserKey]{key: key}
		emit := func(d *prometheus.Desc, v float64, labels ...string) {
			m := sharedGauge(d, v, labels...)
			send(m)
			us.metrics = append(us.metrics, m)
		}
		emit(aclUserEnabledDesc, boolValue(u.Enabled), u.Name)
		emit(aclUserNopassDesc, boolValue(u.NoPass), u.Name)
		for _, s := range aclrule.Scopes {
			v := u.Unrestricted(s) || (s == aclrule.ScopeChannels && channelsImplicit)
			emit(aclUserUnrestrictedDesc, boolValue(v), u.Name, string(s))
		}
		if a.WeakPasswords != nil {
			emit(aclUserWeakPasswordDesc, boolValue(anyHash(u, a.WeakPasswords.ContainsHash)), u.Name)
		}
		emit(aclUserSharedPasswordDesc, boolValue(shared), u.Name)
		st.aclUsers[u.Name] = us
	}
	if len(st.aclUsers) > len(users) {
		for name := range st.aclUsers {
			if _, ok := lines[name]; !ok {
				delete(st.aclUsers, name)
			}
		}
	}
	counts := [2]int{enabled[false], enabled[true]}
	openDefault := def != nil && def.Enabled && def.NoPass
	if reused {
		st.aclOut = aclOutput{list: r.acl, channelsImplicit: channelsImplicit, metrics: sent,
			enabled: counts, hasDefault: def != nil, openDefault: openDefault}
	}
	return a.scrapeTotals(r, e, counts, def != nil, openDefault)
}

// aclOutput is the acl collector's per-user output for a reused ACL LIST
// parse (see Scrape).
type aclOutput struct {
	list                    *aclList
	channelsImplicit        bool
	metrics                 []prometheus.Metric
	enabled                 [2]int // users disabled, enabled
	hasDefault, openDefault bool
}

// scrapeTotals sends the series over all users and the exposure.
func (a ACL) scrapeTotals(r *Replies, e emitter, enabled [2]int, hasDefault, openDefault bool) error {
	e.gauge(aclUsersDesc, float64(enabled[1]), "true")
	e.gauge(aclUsersDesc, float64(enabled[0]), "false")
	if !hasDefault {
		return errors.New("ACL LIST has no default user")
	}
	e.gauge(authRequiredDesc, boolValue(!openDefault))

	exposed, err := exposedWithoutAuth(r, openDefault)
	if err != nil {
		return fmt.Errorf("exposed_without_auth: %w", err)
	}
	e.gauge(exposedWithoutAuthDesc, boolValue(exposed))
	return nil
}

// anyHash reports whether one of the user's password hashes satisfies f. A
// nopass user has no hash: any password works, which nopass reports.
func anyHash(u aclrule.User, f func(hexSHA256 string) bool) bool {
	for _, h := range u.PasswordHashes {
		if f(h) {
			return true
		}
	}
	return false
}

// ACLUsers parses the ACL LIST reply, sorted by name. Lines that do not parse
// are logged (without their content: they hold password hashes) and skipped.
func ACLUsers(r *Replies, logger log.Logger) ([]aclrule.User, error) {
	a, err := r.aclList()
	if err != nil {
		return nil, err
	}
	for _, i := range a.skipped {
		level.Warn(logger).Log("msg", "skipping unparsable ACL LIST entry", "entry", i)
	}
	return a.users, nil
}

// aclList is the parsed ACL LIST reply of a scrape, shared by the collectors
// that need it (parsing a thousand users once instead of three times).
type aclList struct {
	users []aclrule.User // sorted by name, first line of a duplicate name wins
	// lines holds the SHA-256 of each user's raw line, for cache keys
	// only (the line carries password hashes).
	lines   map[string]string
	skipped []int // indexes of lines that did not parse
	err     error
}

func (r *Replies) aclList() (*aclList, error) {
	if r.acl != nil {
		return r.acl, r.acl.err
	}
	r.acl = parseACLList(r)
	if r.aclFresh && r.acl.err == nil {
		r.state.aclCache.parsed = r.acl // reused with the reply
	}
	return r.acl, r.acl.err
}

func parseACLList(r *Replies) *aclList {
	v, err := r.Command("ACL", "LIST")
	if err != nil {
		return &aclList{err: err}
	}
	lines, ok := v.([]any)
	if !ok {
		return &aclList{err: fmt.Errorf("ACL LIST: unexpected reply type %T", v)}
	}
	a := &aclList{users: make([]aclrule.User, 0, len(lines)), lines: make(map[string]string, len(lines))}
	for i, l := range lines {
		s, ok := l.(string)
		if !ok {
			return &aclList{err: fmt.Errorf("ACL LIST: element %d is %T, not a string", i, l)}
		}
		u, err := aclrule.Parse(s)
		if err != nil {
			a.skipped = append(a.skipped, i) // the error quotes nothing, but say only where
			continue
		}
		if _, dup := a.lines[u.Name]; dup {
			continue
		}
		sum := sha256.Sum256([]byte(s)) // hashed once per read of ACL LIST, not per scrape
		a.lines[u.Name] = string(sum[:])
		a.users = append(a.users, u)
	}
	slices.SortFunc(a.users, func(x, y aclrule.User) int { return strings.Compare(x.Name, y.Name) }) // sort.Slice allocates per call
	return a
}

// exposedWithoutAuth applies the protected-mode rules of the server's version.
func exposedWithoutAuth(r *Replies, openDefault bool) (bool, error) {
	facts := r.Facts()
	if !facts.Known {
		return false, errors.New("server version unknown (INFO failed)")
	}
	net, err := readNetwork(r)
	if err != nil {
		return false, err
	}
	pm, ok, err := r.Config("protected-mode")
	if err != nil {
		return false, err
	}
	if !ok {
		return false, errors.New("CONFIG GET protected-mode returned nothing")
	}
	protected, err := parseYesNo(pm)
	if err != nil {
		return false, fmt.Errorf("CONFIG protected-mode: %w", err)
	}
	if !openDefault || !net.nonLoopback() {
		return false, nil
	}
	// Protected mode refuses non-loopback clients while default is nopass:
	// on 7.0+ always, on 6.x only when no bind is configured.
	inEffect := protected && (facts.Server.CompatVersion.AtLeast(7, 0) || len(net.binds) == 0)
	return !inEffect, nil
}
