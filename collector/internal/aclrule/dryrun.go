package aclrule

import "strings"

// Probe is one dangerous command as the exporter asks about it: with ACL
// DRYRUN <user> Args... on Redis 7.0+, or with User.Allows(Command,
// FirstArg(), info.CategoriesFor(FirstArg())) on 6.x.
type Probe struct {
	// Command is the command name, upper case as in the metrics' command label.
	Command string
	// Sub is the representative subcommand of a container command (CONFIG
	// SET), "" for commands without subcommands.
	Sub string
	// Args is a whole command line with a valid arity for Redis 7.0.15
	// (DRYRUN rejects a wrong arity), starting with Command (and Sub).
	Args []string
}

// FirstArg is the argument Redis compares with cmd|arg rules: Args[1] (the
// subcommand of a container, e.g. SET; for DEBUG SLEEP 0 it is SLEEP, which
// +debug|sleep allows), "" when Args has no argument. Evaluate with it so that
// the 6.x evaluation and 7.0 DRYRUN judge the same command line.
func (p Probe) FirstArg() string {
	if len(p.Args) < 2 {
		return ""
	}
	return p.Args[1]
}

// DangerousCommandProbes is the default dangerous command list of metrics.md,
// each with a representative call. Key and channel arguments are dummies: a
// DRYRUN answer about them means the command itself is allowed.
var DangerousCommandProbes = []Probe{
	{Command: "FLUSHALL", Args: []string{"FLUSHALL"}},
	{Command: "FLUSHDB", Args: []string{"FLUSHDB"}},
	{Command: "CONFIG", Sub: "SET", Args: []string{"CONFIG", "SET", "maxmemory", "0"}},
	// DEBUG has no subcommands in the command table: SLEEP is a first argument.
	{Command: "DEBUG", Args: []string{"DEBUG", "SLEEP", "0"}},
	{Command: "SHUTDOWN", Args: []string{"SHUTDOWN"}},
	{Command: "MODULE", Sub: "LOAD", Args: []string{"MODULE", "LOAD", "/x.so"}},
	{Command: "KEYS", Args: []string{"KEYS", "*"}},
	{Command: "EVAL", Args: []string{"EVAL", "return 1", "0"}},
	{Command: "EVALSHA", Args: []string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}},
	{Command: "SCRIPT", Sub: "FLUSH", Args: []string{"SCRIPT", "FLUSH"}},
	{Command: "FUNCTION", Sub: "FLUSH", Args: []string{"FUNCTION", "FLUSH"}},
	{Command: "MONITOR", Args: []string{"MONITOR"}},
	{Command: "REPLICAOF", Args: []string{"REPLICAOF", "NO", "ONE"}},
	{Command: "SLAVEOF", Args: []string{"SLAVEOF", "NO", "ONE"}},
	{Command: "MIGRATE", Args: []string{"MIGRATE", "h", "6379", "k", "0", "1000"}},
	{Command: "RESTORE", Args: []string{"RESTORE", "k", "0", "x"}},
	{Command: "SAVE", Args: []string{"SAVE"}},
	{Command: "BGSAVE", Args: []string{"BGSAVE"}},
	{Command: "BGREWRITEAOF", Args: []string{"BGREWRITEAOF"}},
	{Command: "SWAPDB", Args: []string{"SWAPDB", "0", "1"}},
	{Command: "CLUSTER", Sub: "RESET", Args: []string{"CLUSTER", "RESET"}},
	{Command: "ACL", Sub: "SETUSER", Args: []string{"ACL", "SETUSER", "x"}},
	{Command: "CLIENT", Sub: "KILL", Args: []string{"CLIENT", "KILL", "1.2.3.4:5"}},
	{Command: "SYNC", Args: []string{"SYNC"}},
	{Command: "PSYNC", Args: []string{"PSYNC", "?", "-1"}},
	{Command: "FAILOVER", Args: []string{"FAILOVER"}},
}

// ParseDryRun interprets the answer to ACL DRYRUN <user> <command> [args...]
// (Redis 7.0+) as go-redis returns it.
//
//   - "OK": allowed (true, true).
//   - "This user has no permissions to run the 'x' command" (7.0) or "User
//     <name> has no permissions to run the 'x' command" (7.2+, Valkey):
//     denied (false, true).
//   - "... no permissions to access the 'k' key" (or channel): the command is
//     allowed, only the dummy key/channel is not (true, true).
//   - Any error: (false, false). "ERR Command 'x' not found" means there is no
//     command of that name (renamed or disabled with rename-command); "ERR
//     User 'u' not found", and before 7.0 "ERR Unknown subcommand ...
//     'DRYRUN'", mean DRYRUN cannot answer.
//   - Anything else (e.g. a denial reason of a newer server): (false, false).
//
// known is false whenever the answer does not say whether the user may run
// the command.
func ParseDryRun(reply any, err error) (allowed bool, known bool) {
	if err != nil {
		return false, false
	}
	s, ok := reply.(string)
	if !ok {
		return false, false
	}
	if s == "OK" {
		return true, true
	}
	// Who: "This user " (7.0) or "User <name> " (7.2+; ACL user names
	// contain no spaces).
	var rest string
	switch {
	case strings.HasPrefix(s, "This user "):
		rest = strings.TrimPrefix(s, "This user ")
	case strings.HasPrefix(s, "User "):
		_, rest, ok = strings.Cut(strings.TrimPrefix(s, "User "), " ")
		if !ok {
			return false, false
		}
	default:
		return false, false
	}
	if what, ok := strings.CutPrefix(rest, "has no permissions to run the '"); ok {
		if strings.HasSuffix(what, "' command") {
			return false, true
		}
		return false, false
	}
	if what, ok := strings.CutPrefix(rest, "has no permissions to access the '"); ok {
		if strings.HasSuffix(what, "' key") || strings.HasSuffix(what, "' channel") {
			return true, true
		}
	}
	return false, false
}
