package collector

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// Facts is what the exporter knows about a server from an earlier INFO reply.
// The plan's encoding depends on it: before 7.0, CONFIG GET takes one
// parameter per call and INFO one section.
type Facts struct {
	// Known is false before the first successful INFO of a connection target.
	Known  bool
	Server redisinfo.Server
}

// Encoding names the command forms a plan uses; a change of encoding between
// the facts a plan was built with and the facts its INFO reply revealed means
// the plan must be sent again.
type Encoding int

// Encodings.
const (
	// EncodingCompatible works on every supported version (6.0+): plain
	// INFO and one CONFIG GET per parameter. Used while facts are unknown.
	EncodingCompatible Encoding = iota
	// EncodingModern uses multi-section INFO and multi-parameter CONFIG GET
	// (Redis 7.0+, every Valkey).
	EncodingModern
)

// EncodingFor returns the encoding for a server.
func EncodingFor(f Facts) Encoding {
	if f.Known && f.Server.CompatVersion.AtLeast(7, 0) {
		return EncodingModern
	}
	return EncodingCompatible
}

// infoSections are the INFO sections the collectors read. Memory, persistence,
// CPU, keyspace and commandstats are left out: they cost server time and hold
// nothing security-relevant.
var infoSections = []string{"server", "clients", "stats", "replication", "modules", "errorstats"}

// secretConfigParams are parameters whose value is a secret. They are never
// requested, and neither is any glob: CONFIG GET returns them in plaintext.
// Valkey 8 renamed masterauth and masteruser to primaryauth and primaryuser
// (the old names remain aliases).
var secretConfigParams = []string{"requirepass", "masterauth", "masteruser", "primaryauth", "primaryuser", "tls-key-file-pass", "tls-client-key-file-pass", "sentinel-pass", "sentinel-user"}

// checkConfigParam rejects a parameter name that is a glob or names a secret.
func checkConfigParam(name string) error {
	if name == "" || strings.ContainsAny(name, "*?[]\\ ") {
		return fmt.Errorf("CONFIG GET parameter %q is a glob or malformed: only exact names may be requested", name)
	}
	lower := strings.ToLower(name)
	for _, s := range secretConfigParams {
		if lower == s {
			return fmt.Errorf("CONFIG GET parameter %q holds a secret and is never requested", name)
		}
	}
	if strings.Contains(lower, "pass") {
		return fmt.Errorf("CONFIG GET parameter %q may hold a secret and is never requested", name)
	}
	return nil
}

// Plan collects the requests of one scrape. INFO is always part of it: every
// version decision is made from it.
type Plan struct {
	facts Facts
	state *State
	// config and commands are allocated by the first request (nil: none);
	// a steady scrape's follow-up plans request nothing.
	config   map[string]bool
	commands map[string][]string
	err      error
}

// NewPlan starts a plan for a server described by facts.
func NewPlan(f Facts) *Plan {
	return &Plan{facts: f}
}

// UseState attaches the target's state, which lives as long as the target
// (ACL LOG tracking, caches). Without it each scrape gets a fresh state.
func (p *Plan) UseState(s *State) { p.state = s }

// State returns the target's state.
func (p *Plan) State() *State {
	if p.state == nil {
		p.state = NewState()
	}
	return p.state
}

// Empty reports whether the plan requests nothing beyond INFO.
func (p *Plan) Empty() bool { return len(p.config) == 0 && len(p.commands) == 0 }

// Facts returns what is known of the server. Facts.Known is false on the first
// scrape: a scraper must then plan only requests that every version accepts,
// or plan nothing version-specific and catch up on the next scrape.
func (p *Plan) Facts() Facts { return p.facts }

// Config requests CONFIG parameters by exact name.
func (p *Plan) Config(names ...string) {
	for _, n := range names {
		if err := checkConfigParam(n); err != nil {
			p.err = errors.Join(p.err, err)
			continue
		}
		if p.config == nil {
			// Sized for the collectors' some thirty parameters at once:
			// growing there was a tenth of a probe's plan allocations.
			p.config = make(map[string]bool, 24)
		}
		p.config[strings.ToLower(n)] = true
	}
}

// Command requests a read-only command other than INFO and CONFIG GET, e.g.
// Command("ACL", "LIST"). Identical requests are sent once.
func (p *Plan) Command(args ...string) {
	var buf [keyBufSize]byte
	k := appendCommandKey(buf[:0], args)
	if _, ok := p.commands[string(k)]; ok {
		return // ACL LIST is requested by three collectors: one key
	}
	if p.commands == nil {
		p.commands = make(map[string][]string, 8)
	}
	p.commands[interned.str(k)] = args
}

// Err reports a request that was refused (a glob or secret CONFIG parameter):
// a programming error that tests catch.
func (p *Plan) Err() error { return p.err }

// Call is one command of the encoded plan and what it is for.
type Call struct {
	Args []any
	// Name is the command's name for the command label, e.g. "config|get".
	Name string
	kind callKind
	key  string // commandKey for commands; the parameter for 6.x CONFIG GET
}

type callKind int

const (
	callInfo callKind = iota
	callConfig
	callCommand
)

// Calls encodes the plan as commands, INFO first, in a stable order.
func (p *Plan) Calls() []Call {
	return p.calls(true)
}

// FollowUpCalls encodes a follow-up plan: its requests only, without INFO.
func (p *Plan) FollowUpCalls() []Call {
	return p.calls(false)
}

func (p *Plan) calls(withInfo bool) []Call {
	enc := EncodingFor(p.facts)
	n := 1 + len(p.commands) + 1 // INFO, the commands, one CONFIG GET
	if enc != EncodingModern {
		n += len(p.config)
	}
	calls := make([]Call, 0, n)
	if withInfo {
		info := infoCall(enc)
		if enc == EncodingModern && p.wantsACLStamp() {
			info.Args = append(info.Args, "commandstats")
		}
		calls = append(calls, info)
	}
	params := make([]string, 0, len(p.config))
	for n := range p.config {
		params = append(params, n)
	}
	sort.Strings(params)
	if len(params) > 0 && !(withInfo && p.configReuse()) { // reused unless this INFO shows a change (settleConfig)
		if enc == EncodingModern {
			args := make([]any, 0, 2+len(params))
			args = append(args, "CONFIG", "GET")
			for _, n := range params {
				args = append(args, boxed(n))
			}
			calls = append(calls, Call{Args: args, Name: "config|get", kind: callConfig})
		} else {
			for _, n := range params {
				calls = append(calls, Call{Args: []any{"CONFIG", "GET", n}, Name: "config|get", kind: callConfig, key: n})
			}
		}
	}
	keys := make([]string, 0, len(p.commands))
	for k := range p.commands {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == aclListKey && withInfo && p.aclListReuse() {
			continue // reused unless this INFO shows a change (settleACLList)
		}
		args := make([]any, len(p.commands[k]))
		for i, a := range p.commands[k] {
			args[i] = boxed(a)
		}
		calls = append(calls, Call{Args: args, Name: commandName(p.commands[k]), kind: callCommand, key: k})
	}
	return calls
}

func infoCall(enc Encoding) Call {
	args := make([]any, 1, 2+len(infoSections))
	args[0] = "INFO"
	if enc == EncodingModern {
		for _, s := range infoSections {
			args = append(args, boxed(s))
		}
	}
	return Call{Args: args, Name: "info", kind: callInfo}
}

// boxed returns a parameter, section or argument name as an interface value:
// a string put in an interface is copied to the heap, and a scrape's CONFIG
// GET alone carries some thirty names.
func boxed(name string) any { return interned.box(name) }

// commandKey identifies a request: its arguments joined by NUL, the
// command's name (and a container's subcommand) in lower case, as Redis
// reads them, and the other arguments as they are: ACL user names are
// case-sensitive, so "ACL DRYRUN Ops ..." and "ACL DRYRUN ops ..." are two
// requests with two answers.
func commandKey(args []string) string {
	var buf [keyBufSize]byte
	return string(appendCommandKey(buf[:0], args))
}

// keyBufSize fits a steady scrape's keys on the stack; longer ones (COMMAND
// INFO of the checked commands, ACL DRYRUN) grow onto the heap.
const keyBufSize = 96

// appendCommandKey appends commandKey(args) to dst. Lookups use it with a
// buffer on the stack, so that finding a reply allocates nothing.
func appendCommandKey(dst []byte, args []string) []byte {
	base := len(dst)
	for i, a := range args {
		if i > 0 {
			dst = append(dst, 0)
		}
		if i == 0 || i == 1 && containers[string(dst[base:len(dst)-1])] {
			dst = appendLowerASCII(dst, a)
		} else {
			dst = append(dst, a...)
		}
	}
	return dst
}

func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// containers are commands whose first argument is a subcommand; the command
// label names both ("acl|list"), as Redis's ACL and errors do.
var containers = map[string]bool{
	"acl": true, "client": true, "cluster": true, "command": true, "commandlog": true, "config": true,
	"function": true, "latency": true, "memory": true, "module": true, "object": true,
	"script": true, "slowlog": true, "xinfo": true, "pubsub": true,
}

func commandName(args []string) string {
	if len(args) == 0 {
		return ""
	}
	var buf [32]byte
	name := appendLowerASCII(buf[:0], args[0])
	if containers[string(name)] && len(args) > 1 {
		name = append(name, '|')
		name = appendLowerASCII(name, args[1])
	}
	return interned.str(name)
}

// Covers reports whether p requests everything q requests, so that the
// replies to p serve q's scrapers.
func (p *Plan) Covers(q *Plan) bool {
	for n := range q.config {
		if !p.config[n] {
			return false
		}
	}
	for k := range q.commands {
		if _, ok := p.commands[k]; !ok {
			return false
		}
	}
	// A plan that reuses ACL LIST does not serve one that must read it
	// (the server restarted).
	return (!p.aclListReuse() || q.aclListReuse()) && (!p.configReuse() || q.configReuse())
}
