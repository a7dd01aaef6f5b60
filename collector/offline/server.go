package offline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/redisconf"
)

// server is what a redis-server started with the configuration would answer
// to the collectors' read-only commands, as far as the files decide it:
// CONFIG GET from the directives or the version's defaults, ACL LIST from the
// user directives or the ACL file, COMMAND INFO from the command table minus
// renamed commands, ACL DRYRUN from the users' rules. Everything that only
// a running server knows (counters, ACL LOG, clients) it does not answer.
type server struct {
	flavor  redisinfo.Flavor
	version redisinfo.Version
	// compat is redis_version: Valkey reports 7.2.4.
	compat  redisinfo.Version
	conf    *redisconf.Config
	params  map[string]string
	renamed map[string]bool
	table   commandTable
	users   []userDef
	// aclErr is why ACL LIST cannot be answered (an unreadable aclfile).
	aclErr   error
	warnings []string
}

// errNeedsServer ends the error answered to commands only a running server
// can answer (ACL LOG).
const errNeedsServer = "needs a running server (offline audit)"

// userDef is one ACL user as ACL LIST would print it, and where it was
// defined.
type userDef struct {
	name string
	// line is the ACL LIST line: passwords only as #<sha256>.
	line string
	at   redisconf.Directive // Line 0: not defined in any file (the built-in default user)
}

// paramSince says from which version a parameter exists: CONFIG GET of a
// parameter the server lacks returns nothing, and the metric is omitted.
// "" is every supported version, "never" none; Valkey follows Redis 7.2.4
// where valkey is "".
type paramSince struct{ redis, valkey string }

var (
	always  = paramSince{}
	since70 = paramSince{redis: "7.0"}
	// commandLog: Valkey 8.1 made SLOWLOG's settings aliases of its own.
	commandLog = paramSince{redis: "never", valkey: "8.1"}
)

// defaults are the values CONFIG GET returns for an absent directive, read
// from Redis 7.0.15 and 8.0.6 and Valkey 8.1.1 and 9.1.2 started without a
// config file (the same on all four); dir is absent on purpose: it is the
// server's working directory, which a file does not say.
var defaults = map[string]struct {
	value string
	since paramSince
}{
	"bind":                       {"* -::*", always}, // 6.x: "" (every interface), see value
	"port":                       {"6379", always},
	"tls-port":                   {"0", always},
	"protected-mode":             {"yes", always},
	"unixsocket":                 {"", always},
	"unixsocketperm":             {"0", always},
	"tls-auth-clients":           {"yes", always},
	"tls-auth-clients-user":      {"off", paramSince{redis: "never", valkey: "9.0"}},
	"tls-protocols":              {"", always},
	"tls-replication":            {"no", always},
	"tls-cluster":                {"no", always},
	"client-output-buffer-limit": {"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", always},
	"client-query-buffer-limit":  {"1073741824", always},
	"proto-max-bulk-len":         {"536870912", always},
	"timeout":                    {"0", always},
	"tcp-keepalive":              {"300", always},
	"maxmemory":                  {"0", always},
	"maxmemory-clients":          {"0", since70},
	"enable-debug-command":       {"no", since70},
	"enable-module-command":      {"no", since70},
	"enable-protected-configs":   {"no", since70},
	"dbfilename":                 {"dump.rdb", always},
	"replica-read-only":          {"yes", always},
	"acllog-max-len":             {"128", always},
	"maxclients":                 {"10000", always},
	// COMMANDLOG, Valkey 8.1+ (integers only: no unit suffixes).
	"commandlog-execution-slower-than":  {"10000", commandLog},
	"commandlog-slow-execution-max-len": {"128", commandLog},
	"commandlog-request-larger-than":    {"1048576", commandLog},
	"commandlog-large-request-max-len":  {"128", commandLog},
	"commandlog-reply-larger-than":      {"1048576", commandLog},
	"commandlog-large-reply-max-len":    {"128", commandLog},
}

// aliases are older names of parameters (the last directive of either name
// wins, as in the server).
var aliases = map[string]string{
	"slave-read-only": "replica-read-only",
	"slaveof":         "replicaof",
}

// commandLogAliases are the slow log's older names on Valkey 8.1+, where
// they set COMMANDLOG's slow type (elsewhere they are SLOWLOG's own, which
// no check reads).
var commandLogAliases = map[string]string{
	"slowlog-log-slower-than": "commandlog-execution-slower-than",
	"slowlog-max-len":         "commandlog-slow-execution-max-len",
}

func (s *server) has(p paramSince) bool {
	min, v := p.redis, s.version
	if s.flavor == redisinfo.FlavorValkey {
		if p.valkey != "" {
			min = p.valkey
		} else {
			v = s.compat
		}
	}
	switch min {
	case "":
		return true
	case "never":
		return false
	}
	m, err := redisinfo.ParseVersion(min)
	return err == nil && v.AtLeast(m.Major, m.Minor)
}

// newServer applies the configuration's directives.
func newServer(conf *redisconf.Config, flavor redisinfo.Flavor, version redisinfo.Version, table commandTable, aclFile string) (*server, error) {
	s := &server{flavor: flavor, version: version, compat: version, conf: conf, params: map[string]string{}, renamed: map[string]bool{}, table: table}
	if flavor == redisinfo.FlavorValkey {
		s.compat = redisinfo.Version{Major: 7, Minor: 2, Patch: 4}
	}
	for name, d := range defaults {
		if s.has(d.since) {
			s.params[name] = d.value
		}
	}
	if !s.compat.AtLeast(7, 0) {
		s.params["bind"] = "" // 6.x: no bind means every interface
	}
	outputLimits := map[string][3]string{}
	for _, d := range conf.Directives {
		name := d.Name
		if a, ok := aliases[name]; ok {
			name = a
		}
		if a, ok := commandLogAliases[name]; ok && s.has(commandLog) {
			name = a
		}
		switch name {
		case "rename-command":
			if len(d.Args) != 2 {
				return nil, directiveError(d, "rename-command takes a command and its new name")
			}
			s.renamed[strings.ToLower(d.Args[0])] = true
		case "client-output-buffer-limit":
			if len(d.Args) == 0 || len(d.Args)%4 != 0 {
				return nil, directiveError(d, "client-output-buffer-limit takes groups of <class> <hard> <soft> <seconds>")
			}
			for i := 0; i < len(d.Args); i += 4 {
				class := strings.ToLower(d.Args[i])
				if class == "replica" {
					class = "slave" // as CONFIG GET prints it
				}
				outputLimits[class] = [3]string{d.Args[i+1], d.Args[i+2], d.Args[i+3]}
			}
		case "bind", "tls-protocols":
			s.params[name] = strings.Join(d.Args, " ")
		default:
			if _, known := defaults[name]; known && len(d.Args) == 1 {
				if s.has(defaults[name].since) {
					s.params[name] = d.Args[0]
				} else {
					s.warnings = append(s.warnings, fmt.Sprintf("%s:%d: %s does not exist on %s %s (the server would refuse to start)", d.File, d.Line, d.Name, flavor, version))
				}
			} else if known {
				return nil, directiveError(d, d.Name+" takes one argument")
			} else if name == "dir" && len(d.Args) == 1 {
				s.params["dir"] = d.Args[0]
			}
		}
	}
	if len(outputLimits) > 0 {
		cur, _ := parseLimitValue(s.params["client-output-buffer-limit"])
		for class, l := range outputLimits {
			cur[class] = l
		}
		var b strings.Builder
		for _, class := range []string{"normal", "slave", "pubsub"} {
			l, ok := cur[class]
			if !ok {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(class + " " + l[0] + " " + l[1] + " " + l[2])
		}
		s.params["client-output-buffer-limit"] = b.String()
	}
	if err := s.loadUsers(aclFile); err != nil {
		return nil, err
	}
	return s, nil
}

func parseLimitValue(v string) (map[string][3]string, error) {
	f := strings.Fields(v)
	out := map[string][3]string{}
	for i := 0; i+3 < len(f); i += 4 {
		out[f[i]] = [3]string{f[i+1], f[i+2], f[i+3]}
	}
	return out, nil
}

// directiveError names the file, the line and the directive, never the
// arguments (they may be secrets).
func directiveError(d redisconf.Directive, msg string) error {
	return &redisconf.Error{File: d.File, Line: d.Line, Msg: msg}
}

// sha256Hex is how the server stores a password; the exporter compares only
// these hashes, never the passwords.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// loadUsers builds the ACL users: the built-in default user, requirepass,
// the user directives or the ACL file (--acl-file, else the aclfile
// directive's path), as the server does at start-up.
func (s *server) loadUsers(aclFileFlag string) error {
	userDirs := s.conf.All("user")
	aclDir, hasACLFile := s.conf.Last("aclfile")
	if hasACLFile && len(userDirs) > 0 {
		return directiveError(aclDir, "aclfile and user directives in one configuration: the server refuses to start (define the users in one place)")
	}
	def := userDef{name: "default", line: "user default on nopass ~* &* +@all"}
	if pass, ok := s.conf.Last("requirepass"); ok && len(pass.Args) == 1 && !hasACLFile && aclFileFlag == "" {
		if pass.Args[0] == "" {
			def.line = "user default on nopass ~* &* +@all"
		} else {
			def.line = "user default on #" + sha256Hex(pass.Args[0]) + " ~* &* +@all"
		}
		def.at = pass
	}
	var defs []redisconf.Directive
	switch {
	case aclFileFlag != "":
		d, err := readACLFile(aclFileFlag)
		if err != nil {
			return err
		}
		defs = d
	case hasACLFile:
		if len(aclDir.Args) != 1 {
			return directiveError(aclDir, "aclfile takes one path")
		}
		path := aclDir.Args[0]
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(aclDir.File), path)
		}
		d, err := readACLFile(path)
		var parseErr *redisconf.Error
		if errors.As(err, &parseErr) {
			return err
		}
		if err != nil {
			// The path is where the server will run, not necessarily
			// here: the ACL checks are then not evaluated.
			s.aclErr = fmt.Errorf("aclfile %s (%s:%d) is not readable here: pass --acl-file to audit the users (%v)", aclDir.Args[0], aclDir.File, aclDir.Line, unwrapPathError(err))
			return nil
		}
		defs = d
	default:
		defs = userDirs
	}
	seen := map[string]bool{}
	for _, d := range defs {
		if len(d.Args) == 0 {
			return directiveError(d, "user needs a name")
		}
		name := d.Args[0]
		if seen[name] {
			return directiveError(d, fmt.Sprintf("user %q is defined twice (the server refuses to start)", name))
		}
		seen[name] = true
		line, err := aclLine(name, d.Args[1:], s.compat)
		if err != nil {
			return directiveError(d, fmt.Sprintf("user %q: %v", name, err))
		}
		u := userDef{name: name, line: line, at: d}
		if name == "default" {
			def = u
			continue
		}
		s.users = append(s.users, u)
	}
	s.users = append(s.users, def)
	sort.Slice(s.users, func(i, j int) bool { return s.users[i].name < s.users[j].name })
	return nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// readACLFile reads an ACL file as ACLLoadFromFile does: lines trimmed,
// blank lines skipped, split at spaces without any quoting, and every line
// must be "user <name> <rules...>" (a comment line stops the server too:
// "should start with user keyword", verified on Redis 7.0 and Valkey 9.1).
func readACLFile(path string) ([]redisconf.Directive, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []redisconf.Directive
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		d := redisconf.Directive{File: path, Line: i + 1}
		f := strings.Fields(line)
		if f[0] != "user" || len(f) < 2 {
			return nil, directiveError(d, "should start with the user keyword followed by the user name (the server refuses to start)")
		}
		d.Name, d.Args = "user", f[1:]
		out = append(out, d)
	}
	return out, nil
}

// aclLine turns the rules of a user directive into the line ACL LIST would
// print, as far as the collectors read it: on/off, nopass or the passwords'
// SHA-256 hashes, then the permission rules in order (the evaluator applies
// them in order, which gives what the server's normalised form means).
func aclLine(name string, rules []string, compat redisinfo.Version) (string, error) {
	enabled, nopass := false, false
	var hashes, perms []string
	reset := func() {
		enabled, nopass, hashes = false, false, nil
		perms = append(perms, "resetkeys", "resetchannels", "-@all")
	}
	// A new user starts as after "reset"; 6.2 gives new users every channel
	// (acl-pubsub-default allchannels), 7.0+ none.
	// A user directive creates the user as after "reset" (the default user
	// exists already and is reset). 6.x resets to every channel
	// (acl-pubsub-default allchannels), 7.0+ to none.
	reset()
	if !compat.AtLeast(7, 0) {
		perms = append(perms, "&*")
	}
	for _, r := range mergeSelectors(rules) {
		lower := strings.ToLower(r)
		switch {
		case lower == "on":
			enabled = true
		case lower == "off":
			enabled = false
		case lower == "nopass":
			nopass, hashes = true, nil
		case lower == "resetpass":
			nopass, hashes = false, nil
		case lower == "reset":
			reset()
		case strings.HasPrefix(r, ">"):
			hashes, nopass = appendHash(hashes, sha256Hex(r[1:])), false
		case strings.HasPrefix(r, "#"):
			h := strings.ToLower(r[1:])
			if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
				return "", fmt.Errorf("a #<hash> rule is not a SHA-256 in hex")
			}
			hashes, nopass = appendHash(hashes, h), false
		case strings.HasPrefix(r, "<"):
			hashes = removeHash(hashes, sha256Hex(r[1:]))
		case strings.HasPrefix(r, "!"):
			hashes = removeHash(hashes, strings.ToLower(r[1:]))
		case lower == "clearselectors":
			kept := perms[:0]
			for _, p := range perms {
				if !strings.HasPrefix(p, "(") {
					kept = append(kept, p)
				}
			}
			perms = kept
		default:
			perms = append(perms, r)
		}
	}
	var b strings.Builder
	b.WriteString("user " + name)
	if enabled {
		b.WriteString(" on")
	} else {
		b.WriteString(" off")
	}
	if nopass {
		b.WriteString(" nopass")
	}
	for _, h := range hashes {
		b.WriteString(" #" + h)
	}
	for _, p := range perms {
		b.WriteString(" " + p)
	}
	line := b.String()
	if _, err := aclrule.Parse(line); err != nil {
		return "", fmt.Errorf("rules do not parse: a selector is not closed")
	}
	return line, nil
}

// mergeSelectors joins a selector split at spaces ("(+get", "~a)") into one
// rule, as the server's ACLMergeSelectorArguments does: up to the first
// argument that ends with ')'.
func mergeSelectors(rules []string) []string {
	var out []string
	open := false
	for _, r := range rules {
		switch {
		case open:
			out[len(out)-1] += " " + r
			open = !strings.HasSuffix(r, ")")
		default:
			out = append(out, r)
			open = strings.HasPrefix(r, "(") && !strings.HasSuffix(r, ")")
		}
	}
	return out
}

func appendHash(hs []string, h string) []string {
	for _, x := range hs {
		if x == h {
			return hs
		}
	}
	return append(hs, h)
}

func removeHash(hs []string, h string) []string {
	out := hs[:0]
	for _, x := range hs {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

// info is the INFO reply: identity, role, mode and maxclients; no counters.
func (s *server) info() string {
	var b strings.Builder
	b.WriteString("# Server\r\nredis_version:" + s.compat.String() + "\r\n")
	if s.flavor == redisinfo.FlavorValkey {
		b.WriteString("server_name:valkey\r\nvalkey_version:" + s.version.String() + "\r\n")
	}
	mode := "standalone"
	if d, ok := s.conf.Last("cluster-enabled"); ok && len(d.Args) == 1 && strings.EqualFold(d.Args[0], "yes") {
		mode = "cluster"
	}
	b.WriteString("redis_mode:" + mode + "\r\n")
	b.WriteString("run_id:offline\r\ntcp_port:" + s.params["port"] + "\r\n")
	if s.compat.AtLeast(6, 2) {
		b.WriteString("# Clients\r\nmaxclients:" + s.params["maxclients"] + "\r\n")
	}
	b.WriteString("# Replication\r\n")
	if d, ok := s.lastOf("replicaof"); ok && len(d.Args) == 2 && !strings.EqualFold(d.Args[0], "no") {
		b.WriteString("role:slave\r\nmaster_host:" + d.Args[0] + "\r\nmaster_port:" + d.Args[1] + "\r\n")
	} else {
		b.WriteString("role:master\r\n")
	}
	return b.String()
}

// lastOf is Last over a directive and its aliases.
func (s *server) lastOf(name string) (redisconf.Directive, bool) {
	var best redisconf.Directive
	found := false
	for _, d := range s.conf.Directives {
		n := d.Name
		if a, ok := aliases[n]; ok {
			n = a
		}
		if n == name {
			best, found = d, true
		}
	}
	return best, found
}

// answer is the server's reply to one call.
func (s *server) answer(c collector.Call) collector.Result {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = fmt.Sprint(a)
	}
	switch c.Name {
	case "info":
		return collector.Result{Value: s.info()}
	case "config|get":
		var out []any
		for _, p := range args[2:] {
			if v, ok := s.params[strings.ToLower(p)]; ok {
				out = append(out, strings.ToLower(p), v)
			}
		}
		if out == nil {
			out = []any{}
		}
		return collector.Result{Value: out}
	case "acl|list":
		if s.aclErr != nil {
			return collector.Result{Err: s.aclErr}
		}
		out := make([]any, len(s.users))
		for i, u := range s.users {
			out[i] = u.line
		}
		return collector.Result{Value: out}
	case "command|info":
		return collector.Result{Value: s.table.reply(args[2:], s.compat.AtLeast(7, 0), func(n string) bool { return !s.renamed[n] })}
	case "acl|dryrun":
		return s.dryRun(args[2:])
	}
	return collector.Result{Err: collector.ServerError("ERR " + strings.ToUpper(c.Name) + " " + errNeedsServer)}
}

// dryRun answers ACL DRYRUN user command [args...] from the user's rules,
// with the server's own reply texts.
func (s *server) dryRun(args []string) collector.Result {
	if len(args) < 2 {
		return collector.Result{Err: collector.ServerError("ERR wrong number of arguments for 'acl|dryrun' command")}
	}
	var def *userDef
	for i := range s.users {
		if s.users[i].name == args[0] {
			def = &s.users[i]
		}
	}
	if def == nil {
		return collector.Result{Err: collector.ServerError("ERR User '" + args[0] + "' not found")}
	}
	cmd := strings.ToLower(args[1])
	info := s.table.info()
	ci, ok := info[cmd]
	if !ok || s.renamed[cmd] {
		return collector.Result{Err: collector.ServerError("ERR Command '" + cmd + "' not found")}
	}
	u, err := aclrule.Parse(def.line)
	if err != nil {
		return collector.Result{Err: collector.ServerError("ERR " + err.Error())}
	}
	first := ""
	if len(args) > 2 {
		first = args[2]
	}
	name := cmd
	if _, isSub := ci.Subcommands[strings.ToLower(first)]; isSub {
		name = cmd + "|" + strings.ToLower(first)
	}
	if u.Allows(cmd, strings.ToLower(first), ci.CategoriesFor(first)) {
		return collector.Result{Value: "OK"}
	}
	return collector.Result{Value: "User " + args[0] + " has no permissions to run the '" + name + "' command"}
}
