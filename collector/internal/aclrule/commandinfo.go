package aclrule

import (
	"fmt"
	"strings"
)

// CommandInfo is what the ACL evaluator needs from one entry of COMMAND INFO.
//
// All names are lower case and categories are stored WITHOUT the leading '@'
// ("admin", "dangerous"), the form ACL rules use after "+@"/"-@".
type CommandInfo struct {
	// Name is the command name as the server knows it ("config").
	Name string
	// Categories are the command's own ACL categories. On Redis 6.x a
	// container command (CONFIG, CLIENT ...) carries the categories of all
	// its subcommands (CONFIG is admin, slow, dangerous); on 7.0+ a container
	// only carries "slow" and each subcommand has its own categories.
	Categories []string
	// Subcommands maps the subcommand name without the container prefix
	// ("set" for "config|set") to that subcommand's own categories. Redis
	// 7.0+ only; nil on 6.x and for commands without subcommands.
	Subcommands map[string][]string
}

// IsContainer reports whether the server lists subcommands for the command
// (Redis 7.0+ containers such as CONFIG or CLIENT). On 6.x it is always false.
func (c CommandInfo) IsContainer() bool { return len(c.Subcommands) > 0 }

// CategoriesFor returns the categories to hand to Allows for the command run
// with first argument sub.
//
// For a known subcommand of a 7.0+ container it is the union of the
// container's and the subcommand's categories: Redis applies a category rule
// to a container by switching the container AND all its subcommands, and to
// each subcommand that is itself in the category, so a subcommand is touched
// by "+@cat"/"-@cat" exactly when cat is in that union. (In 7.0.15 every
// container is only "slow" and every subcommand is "slow" too, so the union
// equals the subcommand's categories there; the union keeps it right if a
// later version gives containers more.) Otherwise (6.x, a plain command, an
// unknown subcommand) it is the command's own categories.
func (c CommandInfo) CategoriesFor(sub string) []string {
	subCats, ok := c.Subcommands[strings.ToLower(sub)]
	if !ok || sub == "" {
		return c.Categories
	}
	out := append([]string(nil), c.Categories...)
	for _, s := range subCats {
		if !containsFold(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Element positions in one COMMAND INFO entry (RESP2).
const (
	infoName        = 0
	infoCategories  = 6 // Redis 6.0+
	infoSubcommands = 9 // Redis 7.0+
	infoMinLen      = 7 // 6.x entries have exactly 7 elements, 7.0+ have 10
)

// ParseCommandInfo parses the RESP2 reply to COMMAND INFO name... as go-redis
// returns it: one element per requested name, each either nil (the server has
// no command of that name: unknown, or renamed/disabled with rename-command)
// or an array [name, arity, flags, first-key, last-key, step, categories, ...].
// Redis 6.0-6.2 entries have 7 elements (element 6: categories such as
// "@admin"); 7.0+ entries have 10 (7: tips, 8: key specs, 9: subcommands,
// each an entry of the same shape named "container|sub"). Extra elements are
// ignored. The map is keyed by the lower-case command name; nil entries are
// left out, so a requested name missing from the map is not available under
// that name.
//
// A malformed entry makes the whole reply an error (the reply is from a
// server speaking an unexpected format, not one odd command).
func ParseCommandInfo(reply []any) (map[string]CommandInfo, error) {
	out := make(map[string]CommandInfo, len(reply))
	for i, e := range reply {
		if e == nil {
			continue
		}
		name, cats, subs, err := parseInfoEntry(e, 0)
		if err != nil {
			return nil, fmt.Errorf("COMMAND INFO element %d: %w", i, err)
		}
		ci := CommandInfo{Name: name, Categories: cats}
		for j, s := range subs {
			if s == nil {
				continue
			}
			subName, subCats, _, err := parseInfoEntry(s, 1)
			if err != nil {
				return nil, fmt.Errorf("COMMAND INFO element %d (%s) subcommand %d: %w", i, name, j, err)
			}
			// "config|set" -> "set". A name without the container prefix is
			// kept whole rather than rejected.
			if rest, ok := strings.CutPrefix(subName, name+"|"); ok {
				subName = rest
			}
			if ci.Subcommands == nil {
				ci.Subcommands = make(map[string][]string, len(subs))
			}
			ci.Subcommands[subName] = subCats
		}
		out[name] = ci
	}
	return out, nil
}

// parseInfoEntry reads the name, the categories and (depth 0 only) the raw
// subcommand entries of one COMMAND INFO entry.
func parseInfoEntry(e any, depth int) (name string, cats []string, subs []any, err error) {
	arr, ok := e.([]any)
	if !ok {
		return "", nil, nil, fmt.Errorf("entry is %T, not an array", e)
	}
	if len(arr) < infoMinLen {
		return "", nil, nil, fmt.Errorf("entry has %d elements, want at least %d", len(arr), infoMinLen)
	}
	name, ok = arr[infoName].(string)
	if !ok || name == "" {
		return "", nil, nil, fmt.Errorf("entry name is %T, not a non-empty string", arr[infoName])
	}
	name = strings.ToLower(name)
	rawCats, ok := arr[infoCategories].([]any)
	if !ok && arr[infoCategories] != nil {
		return "", nil, nil, fmt.Errorf("%s: categories are %T, not an array", name, arr[infoCategories])
	}
	for _, c := range rawCats {
		s, ok := c.(string)
		if !ok {
			return "", nil, nil, fmt.Errorf("%s: category is %T, not a string", name, c)
		}
		if s = normalizeCategory(s); s != "" {
			cats = append(cats, s)
		}
	}
	if depth == 0 && len(arr) > infoSubcommands && arr[infoSubcommands] != nil {
		subs, ok = arr[infoSubcommands].([]any)
		if !ok {
			return "", nil, nil, fmt.Errorf("%s: subcommands are %T, not an array", name, arr[infoSubcommands])
		}
	}
	return name, cats, subs, nil
}

// normalizeCategory turns "@Admin" or "admin" into "admin".
func normalizeCategory(s string) string {
	return strings.ToLower(strings.TrimPrefix(s, "@"))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
