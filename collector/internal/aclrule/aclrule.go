// Package aclrule parses the lines of ACL LIST ("user alice on #<sha256> ~app:*
// resetchannels -@all +get") into the facts the exporter reports.
//
// The lines carry SHA-256 password hashes, which are secrets: errors from this
// package never quote the line, only positions.
package aclrule

import (
	"fmt"
	"strings"
)

// Permissions is one set of permissions: the user's root rules, or one
// selector "( ... )" (Redis 7.0+). A command is allowed when the root or any
// selector allows it.
type Permissions struct {
	// AllCommands: +@all / allcommands not undone by a later "-" rule.
	AllCommands bool
	// AllKeys: ~* / allkeys / %RW~* (read-and-write on every key).
	AllKeys bool
	// AllChannels: &* / allchannels.
	AllChannels bool
	// CommandRules are the command rules in order (+get, -@all, +config|get,
	// allcommands, nocommands ...), for evaluating what the user may run.
	CommandRules []string
	// KeyPatterns and ChannelPatterns as written (with %R~/%W~ prefixes).
	KeyPatterns     []string
	ChannelPatterns []string
}

// User is one parsed ACL LIST line.
type User struct {
	Name    string
	Enabled bool
	// NoPass: any password (or none) authenticates as this user.
	NoPass bool
	// PasswordHashes are the hex SHA-256 hashes of the user's passwords.
	// Secret: compare them, never print them.
	PasswordHashes []string
	Root           Permissions
	Selectors      []Permissions
}

// Scope is a dimension of ACL permissions.
type Scope string

// The scopes of redis_security_acl_user_unrestricted.
const (
	ScopeCommands Scope = "commands"
	ScopeKeys     Scope = "keys"
	ScopeChannels Scope = "channels"
)

// Scopes lists every Scope in a stable order.
var Scopes = []Scope{ScopeCommands, ScopeKeys, ScopeChannels}

// Unrestricted reports whether the root permissions or any selector grant the
// whole scope.
func (u User) Unrestricted(s Scope) bool {
	for _, p := range append([]Permissions{u.Root}, u.Selectors...) {
		switch s {
		case ScopeCommands:
			if p.AllCommands {
				return true
			}
		case ScopeKeys:
			if p.AllKeys {
				return true
			}
		case ScopeChannels:
			if p.AllChannels {
				return true
			}
		}
	}
	return false
}

// Parse parses one ACL LIST line. Unknown tokens (newer servers add rules,
// e.g. Valkey's db=) are ignored rather than rejected.
func Parse(line string) (User, error) {
	var u User
	tokens, err := tokenize(line)
	if err != nil {
		return u, err
	}
	if len(tokens) < 2 || tokens[0] != "user" {
		return u, fmt.Errorf("ACL LIST entry does not start with \"user <name>\"")
	}
	u.Name = tokens[1]
	// Sized at once: the command rules are most of a line's tokens (the
	// README's exporter user has some thirty), and growing the slice was
	// most of a line's allocations.
	rules := 0
	for _, tok := range tokens[2:] {
		if tok != "" && (tok[0] == '+' || tok[0] == '-' || tok == "allcommands" || tok == "nocommands") {
			rules++
		}
	}
	if rules > 0 {
		u.Root.CommandRules = make([]string, 0, rules)
	}
	for _, tok := range tokens[2:] {
		switch {
		case tok == "on":
			u.Enabled = true
		case tok == "off":
			u.Enabled = false
		case tok == "nopass":
			u.NoPass = true
			u.PasswordHashes = nil
		case tok == "resetpass":
			u.NoPass = false
			u.PasswordHashes = nil
		case strings.HasPrefix(tok, "#"):
			u.PasswordHashes = append(u.PasswordHashes, strings.ToLower(tok[1:]))
		case strings.HasPrefix(tok, "(") && strings.HasSuffix(tok, ")"):
			var sel Permissions
			for _, t := range strings.Fields(tok[1 : len(tok)-1]) {
				sel.apply(t)
			}
			u.Selectors = append(u.Selectors, sel)
		default:
			u.Root.apply(tok)
		}
	}
	return u, nil
}

// apply applies one permission rule. Rules it does not know are ignored.
func (p *Permissions) apply(tok string) {
	switch {
	case tok == "allcommands" || tok == "+@all":
		p.AllCommands = true
		p.CommandRules = append(p.CommandRules, tok)
	case tok == "nocommands" || tok == "-@all":
		p.AllCommands = false
		p.CommandRules = append(p.CommandRules, tok)
	case strings.HasPrefix(tok, "+"):
		p.CommandRules = append(p.CommandRules, tok)
	case strings.HasPrefix(tok, "-"):
		// Any subtraction after +@all means not every command is allowed.
		p.AllCommands = false
		p.CommandRules = append(p.CommandRules, tok)
	case tok == "allkeys":
		p.AllKeys = true
		p.KeyPatterns = append(p.KeyPatterns, "~*")
	case tok == "resetkeys":
		p.AllKeys = false
		p.KeyPatterns = nil
	case strings.HasPrefix(tok, "~") || strings.HasPrefix(tok, "%"):
		p.KeyPatterns = append(p.KeyPatterns, tok)
		if tok == "~*" || strings.EqualFold(tok, "%RW~*") || strings.EqualFold(tok, "%WR~*") {
			p.AllKeys = true
		}
	case tok == "allchannels":
		p.AllChannels = true
		p.ChannelPatterns = append(p.ChannelPatterns, "&*")
	case tok == "resetchannels":
		p.AllChannels = false
		p.ChannelPatterns = nil
	case strings.HasPrefix(tok, "&"):
		p.ChannelPatterns = append(p.ChannelPatterns, tok)
		if tok == "&*" {
			p.AllChannels = true
		}
	}
}

// tokenize splits on spaces and merges each selector "( ... )" into one
// token. After the user name, a token starting with '(' opens a selector, as
// in Redis (ACLMergeSelectorArguments). Parentheses are otherwise literal:
// user names ("(weird") and key or channel patterns ("~a(", "&x)") may hold
// them, and ACL LIST prints them as they are.
func tokenize(line string) ([]string, error) {
	if tokens, ok := tokenizeWith(line, closesSelector); ok {
		return tokens, nil
	}
	// Rules as a person writes them in redis.conf or an ACL file may end a
	// selector with a pattern, "(+keys ~*)": Redis merges a selector up to
	// the first token that ends with ')', whatever it is. ACL LIST never
	// prints that form, so it is only the fall-back.
	anyClose := func(tok string) bool { return strings.HasSuffix(tok, ")") }
	if tokens, ok := tokenizeWith(line, anyClose); ok {
		return tokens, nil
	}
	return nil, fmt.Errorf("ACL LIST entry: a selector is not closed")
}

// tokenizeWith splits on spaces and merges each selector, from a token that
// opens with '(' to the token closes accepts. ok is false when a selector is
// left open.
func tokenizeWith(line string, closes func(string) bool) (tokens []string, ok bool) {
	open := -1 // index in tokens of the selector being merged
	tokens = make([]string, 0, strings.Count(line, " ")+1)
	for f := range strings.SplitSeq(line, " ") {
		switch {
		case f == "":
		case open >= 0:
			tokens[open] += " " + f
			if closes(f) {
				open = -1
			}
		default:
			tokens = append(tokens, f)
			if len(tokens) > 2 && f[0] == '(' && !closes(f[1:]) {
				open = len(tokens) - 1
			}
		}
	}
	return tokens, open < 0
}

// closesSelector reports whether a token inside a selector ends it. ACL LIST
// prints a selector as its key patterns, its channel rules and then its
// command rules, so the selector ends with the first other rule that ends
// with ')': a key ("~b)", "%R~b)") or channel ("&b)") pattern may end with
// ')' without closing it (redis-server prints "(~b) resetchannels -@all
// +get)" for the selector "(~b) +get)").
func closesSelector(tok string) bool {
	return strings.HasSuffix(tok, ")") && !strings.ContainsAny(tok[:1], "~%&")
}
