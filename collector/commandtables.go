package collector

import (
	"hash/maphash"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/internal/weakset"
)

// Every server of one version and set of modules answers the commands
// collector's COMMAND INFO alike, and a pooled /probe target kept its own
// parse of it (about 13 KiB: the categories of each dangerous command and
// subcommand). The parses are shared instead: a table lives as long as some
// target's state holds it (weak pointers, as the label sets), and a new parse
// equal to a live table is replaced by that table (internal/weakset). Tables
// are never modified once shared.

// commandTable is a shared COMMAND INFO parse.
type commandTable struct {
	info map[string]aclrule.CommandInfo
	// byName is info keyed by the lower-case names and their upper-case
	// forms too, as --commands lists them by default: a scrape looks the
	// names up without lowering each (an allocation per name).
	byName map[string]aclrule.CommandInfo
}

// lookup returns the command of name n in any case.
func (t *commandTable) lookup(n string) (aclrule.CommandInfo, bool) {
	if ci, ok := t.byName[n]; ok {
		return ci, true
	}
	ci, ok := t.byName[strings.ToLower(n)]
	return ci, ok
}

var commandTables weakset.Set[commandTable]

// commandTableSeed keys the tables' hashes (weakset compares in full).
var commandTableSeed = maphash.MakeSeed()

// shareCommandTable returns the live table equal to info, or a new table of
// info when none is.
func shareCommandTable(info map[string]aclrule.CommandInfo) *commandTable {
	return commandTables.Share(hashCommandInfo(info),
		func(t *commandTable) bool { return equalCommandInfo(t.info, info) },
		func() *commandTable {
			byName := make(map[string]aclrule.CommandInfo, 2*len(info))
			for n, ci := range info {
				byName[n] = ci
				// ASCII only: Unicode upper-casing maps other letters onto
				// ASCII ones ("ı" to "I"), which lowering never did.
				if up := strings.ToUpper(n); isASCII(n) && up != n {
					byName[up] = ci
				}
			}
			return &commandTable{info: info, byName: byName}
		})
}

func hashCommandInfo(info map[string]aclrule.CommandInfo) uint64 {
	var h maphash.Hash
	h.SetSeed(commandTableSeed)
	str := func(s string) {
		h.WriteString(s)
		h.WriteByte(0)
	}
	for _, name := range sortedKeys(info) {
		ci := info[name]
		str(name)
		str(ci.Name)
		for _, c := range ci.Categories {
			str(c)
		}
		h.WriteByte(1)
		for _, sub := range sortedKeys(ci.Subcommands) {
			str(sub)
			for _, c := range ci.Subcommands[sub] {
				str(c)
			}
			h.WriteByte(2)
		}
		h.WriteByte(3)
	}
	return h.Sum64()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func equalCommandInfo(a, b map[string]aclrule.CommandInfo) bool {
	return maps.EqualFunc(a, b, func(x, y aclrule.CommandInfo) bool {
		return x.Name == y.Name && slices.Equal(x.Categories, y.Categories) &&
			maps.EqualFunc(x.Subcommands, y.Subcommands, func(p, q []string) bool { return slices.Equal(p, q) }) &&
			(x.Subcommands == nil) == (y.Subcommands == nil)
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
