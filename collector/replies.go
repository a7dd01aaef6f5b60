package collector

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// Result is the reply to one Call: Value as a RESP2 client returns it (string,
// int64, []any, nil) or Err for an error reply.
type Result struct {
	Value any
	Err   error
}

// ServerError is an error reply of the server ("NOPERM this user has no
// permissions..."). Errors of the connection are not ServerErrors.
type ServerError string

func (e ServerError) Error() string { return string(e) }

// Code is the first word of the error, e.g. "NOPERM", "ERR", "NOAUTH".
func (e ServerError) Code() string {
	code, _, _ := strings.Cut(string(e), " ")
	return code
}

// IsDenied reports whether err is a NOPERM reply: the exporter's user may not
// run the command.
func IsDenied(err error) bool {
	if err == nil {
		return false // without errors.As, whose target escapes: a call per request and scrape
	}
	var se ServerError
	return errors.As(err, &se) && se.Code() == "NOPERM"
}

// Replies holds the replies of one executed plan.
type Replies struct {
	state   *State
	facts   Facts
	info    *redisinfo.Info
	infoErr error
	config  map[string]string
	// configErr holds the error of the CONFIG GET call that should have
	// returned the parameter (one call on 7.0+, one per parameter before).
	configErr map[string]error
	commands  map[string]Result
	// denied maps each command name sent to whether it was refused with NOPERM.
	denied map[string]bool
	// acl memoizes the parsed ACL LIST (see aclList).
	acl *aclList
	// aclFresh is set when this scrape read ACL LIST and the parse is to
	// be kept; aclListStale when the reused reply is outdated and a
	// follow-up must read it (see acllist.go).
	aclFresh, aclListStale bool
	// configStale is set when the reused CONFIG GET reply is outdated and
	// a follow-up must read it; configSent when these replies hold a
	// CONFIG GET, whatever it returned (see configreuse.go).
	configStale, configSent bool
}

// NewReplies pairs the calls of a plan with their results (same order and
// length). Facts are taken from this INFO reply when it parses, else from the
// plan's facts.
func NewReplies(p *Plan, calls []Call, results []Result) (*Replies, error) {
	if len(calls) != len(results) {
		return nil, fmt.Errorf("internal error: %d calls but %d results", len(calls), len(results))
	}
	r := &Replies{
		state:     p.State(),
		facts:     p.facts,
		config:    make(map[string]string, len(p.config)), // sized: growing it was a tenth of the parse
		configErr: map[string]error{},
		commands:  make(map[string]Result, len(p.commands)),
		denied:    make(map[string]bool, len(calls)),
	}
	aclSent, configSent := false, false
	for i, c := range calls {
		res := results[i]
		aclSent = aclSent || (c.kind == callCommand && c.key == aclListKey)
		configSent = configSent || c.kind == callConfig
		r.denied[c.Name] = r.denied[c.Name] || IsDenied(res.Err)
		switch c.kind {
		case callInfo:
			r.setInfo(res)
		case callConfig:
			r.setConfig(c, res)
		case callCommand:
			r.commands[c.key] = res
		}
	}
	if len(calls) > 0 && calls[0].kind == callInfo { // a main plan, not a follow-up
		r.settleACLList(p, aclSent)
		r.settleConfig(p, configSent)
	}
	r.configSent = configSent
	// Parameters the server did not return do not exist on its version (or
	// build: tls-* without TLS support). That is not an error.
	return r, nil
}

func (r *Replies) setInfo(res Result) {
	if res.Err != nil {
		r.infoErr = res.Err
		return
	}
	s, ok := res.Value.(string)
	if !ok {
		r.infoErr = fmt.Errorf("INFO: unexpected reply type %T", res.Value)
		return
	}
	r.info = redisinfo.ParseInto(infoPool.Get().(*redisinfo.Info), s)
	srv, err := r.info.Server()
	if err != nil {
		r.infoErr = fmt.Errorf("INFO: %w", err)
		r.Release()
		return
	}
	if r.state != nil {
		srv = r.state.ownServer(srv)
	}
	r.facts = Facts{Known: true, Server: srv}
}

func (r *Replies) setConfig(c Call, res Result) {
	if res.Err == nil {
		var err error
		if err = parseConfigReply(res.Value, r.config); err == nil {
			return
		}
		res.Err = err
	}
	if c.key != "" {
		r.configErr[c.key] = res.Err
		return
	}
	for _, a := range c.Args[2:] { // multi-parameter form: the arguments after CONFIG GET
		r.configErr[a.(string)] = res.Err
	}
}

// parseConfigReply adds the name/value pairs of a CONFIG GET reply to m.
func parseConfigReply(v any, m map[string]string) error {
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("CONFIG GET: unexpected reply type %T", v)
	}
	if len(arr)%2 != 0 {
		return fmt.Errorf("CONFIG GET: odd number of elements (%d)", len(arr))
	}
	for i := 0; i < len(arr); i += 2 {
		k, ok1 := arr[i].(string)
		val, ok2 := arr[i+1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("CONFIG GET: element %d is not a string pair", i)
		}
		m[strings.ToLower(k)] = val
	}
	return nil
}

// State returns the target's state (see Plan.UseState).
func (r *Replies) State() *State { return r.state }

// infoPool holds parsed INFO replies for reuse: one is parsed every scrape,
// and its maps (some 200 fields) were a fifth of a scrape's allocations.
var infoPool = sync.Pool{New: func() any { return new(redisinfo.Info) }}

// maxPooledInfoFields bounds what the pool keeps: maps never shrink, and
// one odd reply of a million fields must not stay in the pool for every
// target's scrapes to clear.
const maxPooledInfoFields = 1024

// Release gives the parsed INFO back for reuse by a later scrape. It is
// called once the replies are no longer read: Info then fails.
func (r *Replies) Release() {
	if r.info == nil {
		return
	}
	if r.info.Size() <= maxPooledInfoFields {
		r.info.Reset()
		infoPool.Put(r.info)
	}
	r.info = nil
	if r.infoErr == nil {
		r.infoErr = errors.New("INFO: replies released")
	}
}

// Merge adds the replies of a follow-up round (calls without INFO).
func (r *Replies) Merge(o *Replies) {
	for k, v := range o.config {
		r.config[k] = v
	}
	for k, v := range o.configErr {
		r.configErr[k] = v
	}
	r.mergeConfig(o)
	for k, v := range o.commands {
		r.commands[k] = v
	}
	if _, ok := o.commands[aclListKey]; ok {
		r.acl, r.aclListStale = nil, false
		if r.state != nil {
			r.rememberACLList(r.aclStamp()) // stamped with the main INFO
		}
	}
	for k, v := range o.denied {
		r.denied[k] = r.denied[k] || v
	}
}

// NewFollowUpPlan starts a follow-up plan for the server these replies
// describe, sharing the target's state.
func (r *Replies) NewFollowUpPlan() *Plan {
	p := NewPlan(r.facts)
	p.UseState(r.state)
	if r.aclListStale {
		p.Command("ACL", "LIST")
	}
	if r.configStale {
		p.Config(r.state.configCache.params...)
	}
	return p
}

// Facts describes the server as of this scrape's INFO reply.
func (r *Replies) Facts() Facts { return r.facts }

// Info returns the parsed INFO reply.
func (r *Replies) Info() (*redisinfo.Info, error) {
	if r.info == nil && r.infoErr == nil {
		return nil, errors.New("INFO was not requested")
	}
	return r.info, r.infoErr
}

// Config returns a CONFIG parameter. ok is false when the server does not
// have it; err is set when the CONFIG GET that should return it failed.
func (r *Replies) Config(name string) (value string, ok bool, err error) {
	name = strings.ToLower(name)
	if r.configStale {
		return "", false, errConfigStale
	}
	if err := r.configErr[name]; err != nil {
		return "", false, fmt.Errorf("CONFIG GET %s: %w", name, err)
	}
	v, ok := r.config[name]
	return v, ok, nil
}

// Command returns the reply to a command requested with Plan.Command.
func (r *Replies) Command(args ...string) (any, error) {
	var buf [keyBufSize]byte
	res, ok := r.commands[string(appendCommandKey(buf[:0], args))]
	if !ok {
		return nil, fmt.Errorf("%s was not requested", strings.Join(args, " "))
	}
	if res.Err != nil {
		return nil, fmt.Errorf("%s: %w", strings.ToUpper(strings.Join(args, " ")), res.Err)
	}
	return res.Value, nil
}

// MarkDenied records that the exporter's user may not run command, known
// from an earlier scrape: a scraper that stopped sending a refused command
// (and fell back to something else) keeps the blind spot visible.
func (r *Replies) MarkDenied(command string) { r.denied[command] = true }

// DeniedCommands returns every command name sent this scrape, with whether
// the server refused it with NOPERM, sorted by name.
func (r *Replies) DeniedCommands() []CommandDenial {
	out := make([]CommandDenial, 0, len(r.denied))
	for n, d := range r.denied {
		out = append(out, CommandDenial{Command: n, Denied: d})
	}
	slices.SortFunc(out, func(a, b CommandDenial) int { return strings.Compare(a.Command, b.Command) })
	return out
}

// CommandDenial is one entry of DeniedCommands.
type CommandDenial struct {
	Command string
	Denied  bool
}

// requestedName reports whether a command of this name ("commandlog|get")
// was sent this scrape, whatever its arguments.
func (r *Replies) requestedName(name string) bool {
	_, ok := r.denied[name]
	return ok
}

// Requested reports whether the command was sent this scrape (in the plan
// or a merged follow-up), whatever its reply.
func (r *Replies) Requested(args ...string) bool {
	var buf [keyBufSize]byte
	_, ok := r.commands[string(appendCommandKey(buf[:0], args))]
	return ok
}
