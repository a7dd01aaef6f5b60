package collector

import (
	"strings"
	"time"
)

// ACL LIST is the most expensive command of a scrape on a server with many
// (aclReuseMinUsers or more) users (about 358 µs of server time for 1000 users, and the exporter's
// parse of every line), yet it rarely changes. Redis has no ACL change
// counter, but every way to change users runs a command that INFO
// commandstats counts: ACL SETUSER, ACL DELUSER, ACL LOAD, and CONFIG SET
// (requirepass changes the default user). So, when enabled, the plan adds
// commandstats to INFO (7.0+, which counts subcommands separately) and
// reuses the previous ACL LIST reply while those counts, the server's
// run_id and the ACL LIST reply's age allow it. A change of the counts
// seen in this scrape's INFO reads ACL LIST in a follow-up round trip of the
// same scrape, so a change is never served stale; the age bound covers what
// no count reveals (CONFIG RESETSTAT followed by exactly as many changes).

// aclReuseMinUsers is the size of ACL LIST from which reusing it pays:
// commandstats costs the server about 0.25 µs per command name ever called
// (7 µs for 30), ACL LIST about 0.36 µs per user. Smaller lists are read
// every scrape, as without reuse.
const aclReuseMinUsers = 64

// aclListKey is the plan key of ACL LIST.
var aclListKey = commandKey([]string{"ACL", "LIST"})

// aclChangeCommands are the commands that change ACL LIST's reply.
var aclChangeCommands = []string{"acl|setuser", "acl|deluser", "acl|load", "config|set"}

// aclListCache is the last ACL LIST reply of a target.
type aclListCache struct {
	// maxAge is how long a reply may be reused; 0 reads ACL LIST every
	// scrape (and does not request commandstats).
	maxAge time.Duration
	result *Result // nil: nothing to reuse (never read, or an error)
	parsed *aclList
	runID  string
	stamp  string // aclStamp of the INFO sent before the reply
	at     time.Time
	users  int // lines in the last reply, reused or not
}

// SetACLListMaxAge sets how long an ACL LIST reply may be reused while no
// ACL change is seen; 0 reads it every scrape.
func (s *State) SetACLListMaxAge(d time.Duration) { s.aclCache.maxAge = max(d, 0) }

// aclListReuse reports whether the main plan may leave ACL LIST out and
// reuse the previous reply (if this scrape's INFO shows no change).
func (p *Plan) aclListReuse() bool {
	if _, ok := p.commands[aclListKey]; !ok || p.state == nil {
		return false
	}
	c := &p.state.aclCache
	return c.maxAge > 0 && c.users >= aclReuseMinUsers && c.result != nil && c.stamp != "" && p.facts.Known &&
		EncodingFor(p.facts) == EncodingModern && p.facts.Server.RunID == c.runID && time.Since(c.at) < c.maxAge
}

// wantsACLStamp reports whether INFO must carry commandstats.
func (p *Plan) wantsACLStamp() bool {
	_, ok := p.commands[aclListKey]
	return ok && p.state != nil && p.state.aclCache.maxAge > 0 && p.state.aclCache.users >= aclReuseMinUsers
}

// aclStamp summarises the counts of the commands that change ACL LIST ("":
// unknown, commandstats missing).
func (r *Replies) aclStamp() string {
	if r.info == nil || !r.info.HasSection("commandstats") {
		return ""
	}
	var b strings.Builder
	for _, name := range aclChangeCommands {
		v, _ := r.info.Get("cmdstat_" + name)
		calls, _, _ := strings.Cut(v, ",")
		b.WriteString(calls)
		b.WriteByte(';')
	}
	return b.String()
}

// settleACLList runs after a plan's replies are in: it remembers a fresh
// ACL LIST reply, or serves the remembered one when the plan left ACL LIST
// out and INFO shows no change, or else asks for a follow-up read.
func (r *Replies) settleACLList(p *Plan, sent bool) {
	if _, ok := p.commands[aclListKey]; !ok || r.state == nil {
		return
	}
	c := &r.state.aclCache
	if sent {
		r.rememberACLList(r.aclStamp())
		return
	}
	if c.result != nil && r.facts.Server.RunID == c.runID && r.aclStamp() == c.stamp {
		r.commands[aclListKey] = *c.result
		r.acl = c.parsed
		if _, ok := r.denied["acl|list"]; !ok {
			r.denied["acl|list"] = false // command_denied as if it was sent
		}
		return
	}
	r.aclListStale = true
}

// rememberACLList keeps this scrape's ACL LIST reply with the stamp of the
// INFO sent before it.
func (r *Replies) rememberACLList(stamp string) {
	c := &r.state.aclCache
	res, ok := r.commands[aclListKey]
	if lines, isList := res.Value.([]any); ok && res.Err == nil && isList {
		c.users = len(lines)
	}
	if c.maxAge == 0 || !ok || res.Err != nil || c.users < aclReuseMinUsers {
		c.result, c.parsed = nil, nil
		return
	}
	c.result, c.parsed = &res, nil
	c.runID, c.stamp, c.at = r.facts.Server.RunID, stamp, time.Now()
	r.aclFresh = true
}
