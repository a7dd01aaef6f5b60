// Package collector turns the replies of read-only Redis/Valkey commands into
// security metrics.
//
// It follows mysqld_exporter's collector package: small stateless scrapers, one
// per command family, listed in All with their defaults. Unlike SQL queries,
// Redis commands can be pipelined, so a scrape has two phases. Every enabled
// Scraper first adds the requests it needs to a Plan; the exporter sends the
// whole plan in one round trip; then each Scraper reads the shared Replies.
// This package knows nothing of connections: the exporter executes the plan.
package collector

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is the prefix of every metric.
const Namespace = "redis_security"

// Scraper is one collector: it plans the requests it needs and turns the
// replies into metrics.
type Scraper interface {
	// Name is used in the --collect.<name> flag and the collector label.
	Name() string
	// Help describes the collector for --help.
	Help() string
	// Plan adds the requests this scraper needs; p.Facts() tells what is
	// known of the server. It must depend only on the facts and the
	// target's state: the exporter may build a plan again when a scrape's
	// INFO reveals other facts, and send only one of them.
	Plan(p *Plan)
	// Describe sends every Desc the scraper can emit.
	Describe(ch chan<- *prometheus.Desc)
	// Scrape sends metrics built from the replies. It returns an error when
	// an input it needs was missing or unusable; metrics it could still build
	// are sent anyway.
	Scrape(r *Replies, send Send, logger log.Logger) error
}

// Send takes a scraper's metrics, in the scraper's own goroutine. (Not a
// channel, as prometheus.Collector has: a channel needs a goroutine per
// scraper on the other end, and its start, stack growth and wake-ups cost
// more than some scrapers' whole work.)
type Send func(prometheus.Metric)

// FollowUpPlanner is implemented by a Scraper whose requests depend on this
// scrape's replies: ACL DRYRUN for users not evaluated before, COMMAND INFO
// after a restart. The exporter sends every scraper's follow-up requests in a
// second round trip, and only when there are any: a steady-state scrape stays
// one round trip.
type FollowUpPlanner interface {
	FollowUp(r *Replies, p *Plan)
}

// Options are the collectors' settings, decided once at start-up.
type Options struct {
	// DangerousCommands are the commands the commands collector checks.
	DangerousCommands []string
	// MaxUsers caps the enabled ACL users whose permissions are evaluated.
	MaxUsers int
	// ACLLogTopSources is how many client addresses acl_log_source_events
	// reports per reason.
	ACLLogTopSources int
	// WeakPasswords holds the SHA-256 hashes of known weak passwords; nil
	// disables redis_security_acl_user_weak_password.
	WeakPasswords PasswordSet
	// ClientsMax skips CLIENT LIST when the previous scrape saw more
	// connected clients (0: no limit); ClientsEveryN lists the clients
	// only every n-th scrape (<= 1: every scrape).
	ClientsMax    int
	ClientsEveryN int
	// Vulnerabilities is the CVE and end-of-life table the info collector
	// matches the server's version against; nil is the embedded one.
	Vulnerabilities *VulnerabilityTable
}

// PasswordSet answers whether a hex SHA-256 password hash is a known one.
type PasswordSet interface {
	ContainsHash(hexSHA256 string) bool
}

// DefaultDangerousCommands is the default command list of metrics.md.
var DefaultDangerousCommands = []string{
	"FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SHUTDOWN", "MODULE", "KEYS", "EVAL", "EVALSHA",
	"SCRIPT", "FUNCTION", "MONITOR", "REPLICAOF", "SLAVEOF", "MIGRATE", "RESTORE", "SAVE", "BGSAVE",
	"BGREWRITEAOF", "SWAPDB", "CLUSTER", "ACL", "CLIENT", "SYNC", "PSYNC", "FAILOVER",
}

// DefaultOptions returns the defaults of every setting.
func DefaultOptions() Options {
	return Options{
		DangerousCommands: DefaultDangerousCommands,
		MaxUsers:          200,
		ACLLogTopSources:  10,
		ClientsMax:        DefaultClientsMax,
		ClientsEveryN:     1,
	}
}

// Entry is one collector in the list of all collectors.
type Entry struct {
	Scraper Scraper
	// EnabledByDefault is the default of its --collect.<name> flag.
	EnabledByDefault bool
}

// All lists every collector with its default, in the order they run.
func All(o Options) []Entry {
	return []Entry{
		{Scraper: Info{Vulnerabilities: o.Vulnerabilities}, EnabledByDefault: true},
		{Scraper: Config{}, EnabledByDefault: true},
		{Scraper: ACL{WeakPasswords: o.WeakPasswords}, EnabledByDefault: true},
		{Scraper: ACLLog{TopSources: o.ACLLogTopSources}, EnabledByDefault: true},
		{Scraper: Commands{Names: o.DangerousCommands, MaxUsers: o.MaxUsers}, EnabledByDefault: true},
		{Scraper: Clients{Max: o.ClientsMax, EveryN: o.ClientsEveryN}, EnabledByDefault: true},
		{Scraper: CommandLog{}, EnabledByDefault: true},
		{Scraper: LuaSandbox{}, EnabledByDefault: false},
	}
}

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

// labelValues makes label values taken from the server exportable. A label
// value must be valid UTF-8 (MustNewConstMetric panics otherwise), but Redis
// accepts any bytes in user names, paths and module names, so whoever may
// run ACL SETUSER could otherwise blind a whole collector. Such values are
// shown Go-quoted ("u\xff"). Valid values that start with a double quote are
// quoted as well, which keeps the mapping one-to-one: no user can be given
// the same label as another one and hide behind it.
func labelValues(vs []string) []string {
	var out []string
	for i, v := range vs {
		if utf8.ValidString(v) && !strings.HasPrefix(v, `"`) {
			continue
		}
		if out == nil {
			out = slices.Clone(vs)
		}
		out[i] = strconv.Quote(v)
	}
	if out == nil {
		return vs
	}
	return out
}

// LabelValue makes one label value taken from the server exportable, as
// labelValues does for the collectors' metrics.
func LabelValue(v string) string { return labelValues([]string{v})[0] }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dedupe drops repeated elements, keeping the first: two identical label
// sets in one scrape would make the whole gather fail, and servers do repeat
// themselves (the same bind address twice, a module loaded under two paths).
func dedupe[T comparable](in []T) []T {
	if len(in) <= 16 { // a scrape's listeners and limits: no map for a handful
		for i := 1; i < len(in); i++ {
			if slices.Contains(in[:i], in[i]) {
				out := slices.Clone(in[:i])
				for _, v := range in[i+1:] {
					if !slices.Contains(out, v) {
						out = append(out, v)
					}
				}
				return out
			}
		}
		return in // no repeats: nothing to copy
	}
	out := in[:0:0]
	seen := make(map[T]bool, len(in))
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// LeastPrivilegeRules are the ACL rules of a user that may run exactly what
// the collectors send: the README documents them, the tests run with them,
// and a scrape with them causes no ACL denial.
const LeastPrivilegeRules = "-@all +info +config|get +acl|list +acl|log +acl|dryrun +command|info +client|list +client|id"
