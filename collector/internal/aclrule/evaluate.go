package aclrule

import "strings"

// Evaluating command rules without the server (Redis 6.x has no ACL DRYRUN).
//
// Redis keeps, per user (per selector on 7.0+), one "allowed" bit per command
// id plus a list of allowed first arguments per command id. Each rule, in
// order, sets or clears bits:
//
//	+@all, allcommands   every bit set, every first-arg list cleared
//	-@all, nocommands    every bit cleared, every first-arg list cleared
//	+@cat / -@cat        bits of every command in the category (and, 7.0+, of
//	                     all subcommands of a container in the category, and
//	                     of every subcommand in the category); first-arg lists
//	                     of the touched commands cleared
//	+cmd / -cmd          the command's bit (7.0+: and all its subcommands');
//	                     its first-arg list cleared
//	+cmd|sub             7.0+ container: the subcommand's bit. Otherwise (every
//	                     command on 6.x, a non-container on 7.0, e.g.
//	                     +select|0, +debug|object): adds sub to the command's
//	                     allowed first arguments
//	-cmd|sub             7.0+ container only: clears the subcommand's bit
//
// A command is allowed when its bit is set, or when its first argument
// (argv[1], compared case-insensitively) is in its first-arg list. Because
// every rule that touches a command's bit also resets its first-arg list, this
// is the same as "the last rule that matches (command, first argument)
// decides; nothing matches -> denied", which is what Allows computes.
//
// Differences between 6.x and 7.0 that this relies on (read in the Redis 6.0
// and early 7.0 acl.c; for 7.0.15 also checked against ACL DRYRUN in the
// tests):
//   - 6.x has no subcommands in the command table: COMMAND INFO entries have
//     7 elements and a container's categories cover all its subcommands
//     (6.2 CONFIG: admin slow dangerous, so CONFIG GET is "dangerous").
//     +config|get is the first-arg mechanism and -config|get is rejected by
//     ACL SETUSER, so it never appears in a 6.x ACL LIST.
//   - Redis 6.0 refuses +cmd|arg while cmd's bit is set (EBUSY); later
//     versions accept it. Either way the set bit already allows every
//     argument and nothing clears the bit without also clearing the first-arg
//     list, so last-match-wins gives the same answer.
//   - 6.x splits +cmd|arg at the first '|' (the argument may contain '|');
//     7.0 rejects +cmd|sub|arg ("Allowing first-arg of a subcommand is not
//     supported"), so splitting at the first '|' is right for both.
//   - 7.0 subcommands have their own bits and categories; containers are only
//     @slow (see CommandInfo.CategoriesFor for the union rule). -cmd|sub is
//     valid on 7.0 containers; -cmd|arg on a non-container is rejected.
//   - ACL LIST on 6.x and 7.0 does not echo the rules: it re-synthesizes them
//     from the bitmap (+@all or -@all, best-fitting categories, single
//     commands and 7.0 subcommands, then +cmd|arg with the argument's case as
//     given). Seen on 7.0.15: "+@all -config|set +config" lists as "+@all",
//     "-@all +config|get -@admin" as "-@all", "+@read" as "-@all +@read",
//     "-@all +@dangerous -@admin" as "-@all +keys +migrate +info +sort ...".
//     (Later versions are said to keep the rules as given; not verified
//     here.) The listed line replays to the same permissions, so evaluating
//     it is as exact as evaluating the rules as written; the tests check both
//     against DRYRUN.
//
// Not part of this decision: key and channel patterns (a command allowed on
// some keys counts as allowed), the user being on/off, rename-command, the
// enable-debug-command/enable-module-command gates, commands flagged no-auth
// (AUTH, HELLO: always allowed whatever the rules), and module commands
// (6.x/7.0 category rules skip them; Allows does not know which commands are
// module commands).

// Allows reports whether these permissions let the user run command cmd with
// first argument sub: the subcommand for a container ("SET" for CONFIG SET),
// otherwise argv[1] of the call being judged, "" when there is none. sub only
// matters for +cmd|sub / -cmd|sub rules. categories are the command's ACL
// categories, with or without '@' (use CommandInfo.CategoriesFor). Names are
// compared case-insensitively.
func (p Permissions) Allows(cmd, sub string, categories []string) bool {
	allowed := false
	for _, r := range p.CommandRules {
		if v, ok := ruleDecides(r, cmd, sub, categories); ok {
			allowed = v
		}
	}
	return allowed
}

// Allows reports whether the root permissions or any selector (Redis 7.0+)
// let the user run cmd; see Permissions.Allows. Whether the user is enabled is
// not considered.
func (u User) Allows(cmd, sub string, categories []string) bool {
	if u.Root.Allows(cmd, sub, categories) {
		return true
	}
	for _, s := range u.Selectors {
		if s.Allows(cmd, sub, categories) {
			return true
		}
	}
	return false
}

// ruleDecides returns the decision of rule for (cmd, sub, categories) and
// whether the rule matches at all.
func ruleDecides(rule, cmd, sub string, categories []string) (allow, matches bool) {
	r := strings.ToLower(rule)
	switch r {
	case "+@all", "allcommands":
		return true, true
	case "-@all", "nocommands":
		return false, true
	}
	if len(r) < 2 || (r[0] != '+' && r[0] != '-') {
		return false, false
	}
	allow = r[0] == '+'
	body := r[1:]
	if cat, ok := strings.CutPrefix(body, "@"); ok {
		for _, c := range categories {
			if normalizeCategory(c) == cat {
				return allow, true
			}
		}
		return false, false
	}
	name, arg, hasArg := strings.Cut(body, "|")
	if !strings.EqualFold(name, cmd) {
		return false, false
	}
	if hasArg && !strings.EqualFold(arg, sub) {
		return false, false
	}
	return allow, true
}
