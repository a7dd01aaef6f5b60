package offline

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// commandTableJSON holds, per server branch, the ACL categories of the
// dangerous commands (collector.DefaultDangerousCommands) and their
// subcommands as COMMAND INFO returned them on a live server of that branch.
// It is recorded and checked against live servers by commandtable_test.go
// (go test -run TestCommandTable -update with REDIS_SERVER_BIN set).
//
//go:embed commandtable.json
var commandTableJSON []byte

// commandTables is the parsed table file.
type commandTables struct {
	Tables []commandTable `json:"tables"`
}

// commandTable is one branch's table.
type commandTable struct {
	// Server is "redis-7.0", "valkey-9.1": flavor and branch.
	Server string `json:"server"`
	// RecordedFrom is the server the table was read from ("redis 7.0.15").
	RecordedFrom string                   `json:"recorded_from"`
	Commands     map[string]commandRecord `json:"commands"`
}

// commandRecord is one command's categories (without '@') and its
// subcommands' ("set" for config|set).
type commandRecord struct {
	Categories  []string            `json:"categories"`
	Subcommands map[string][]string `json:"subcommands,omitempty"`
}

// loadCommandTables parses the embedded tables once; they are read-only
// afterwards.
var loadCommandTables = sync.OnceValues(func() (commandTables, error) {
	var t commandTables
	if err := json.Unmarshal(commandTableJSON, &t); err != nil {
		return t, fmt.Errorf("embedded command table: %w", err)
	}
	return t, nil
})

// branchKey names a server's branch as the table does.
func branchKey(f redisinfo.Flavor, v redisinfo.Version) string {
	return fmt.Sprintf("%s-%d.%d", f, v.Major, v.Minor)
}

// tableFor picks the table of the newest branch not newer than the server's
// (the oldest one for older servers), and says when it is not the server's
// own branch.
func (ts commandTables) tableFor(f redisinfo.Flavor, v redisinfo.Version) (commandTable, string, error) {
	var cands []commandTable
	for _, t := range ts.Tables {
		if strings.HasPrefix(t.Server, string(f)+"-") {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 {
		return commandTable{}, "", fmt.Errorf("no command table for %s", f)
	}
	ver := func(t commandTable) redisinfo.Version {
		pv, _ := redisinfo.ParseVersion(strings.TrimPrefix(t.Server, string(f)+"-"))
		return pv
	}
	sort.Slice(cands, func(i, j int) bool { return less(ver(cands[i]), ver(cands[j])) })
	pick := cands[0]
	for _, t := range cands {
		if !less(v, ver(t)) {
			pick = t
		}
	}
	note := ""
	if pick.Server != branchKey(f, v) {
		note = fmt.Sprintf("command categories of %s %s taken from the table of %s (recorded from %s)", f, v, pick.Server, pick.RecordedFrom)
	}
	return pick, note, nil
}

func less(a, b redisinfo.Version) bool {
	if a.Major != b.Major {
		return a.Major < b.Major
	}
	if a.Minor != b.Minor {
		return a.Minor < b.Minor
	}
	return a.Patch < b.Patch
}

// info returns the table as the ACL evaluator's command infos.
func (t commandTable) info() map[string]aclrule.CommandInfo {
	out := make(map[string]aclrule.CommandInfo, len(t.Commands))
	for name, c := range t.Commands {
		out[name] = aclrule.CommandInfo{Name: name, Categories: c.Categories, Subcommands: c.Subcommands}
	}
	return out
}

// reply renders COMMAND INFO name... as the server's RESP2 reply: nil for a
// command absent under that name, an entry of the version's shape otherwise
// (7.0+: ten elements with subcommands; 6.x: seven, a container carrying
// every subcommand's categories, as 6.x reports them).
func (t commandTable) reply(names []string, modern bool, available func(string) bool) []any {
	out := make([]any, 0, len(names))
	for _, n := range names {
		name := strings.ToLower(n)
		c, ok := t.Commands[name]
		if !ok || !available(name) {
			out = append(out, nil)
			continue
		}
		if !modern {
			cats := append([]string(nil), c.Categories...)
			subs := make([]string, 0, len(c.Subcommands))
			for s := range c.Subcommands {
				subs = append(subs, s)
			}
			sort.Strings(subs)
			for _, s := range subs {
				for _, cat := range c.Subcommands[s] {
					if !contains(cats, cat) {
						cats = append(cats, cat)
					}
				}
			}
			out = append(out, []any{name, int64(-1), []any{}, int64(0), int64(0), int64(0), categories(cats)})
			continue
		}
		subNames := make([]string, 0, len(c.Subcommands))
		for s := range c.Subcommands {
			subNames = append(subNames, s)
		}
		sort.Strings(subNames)
		subs := make([]any, 0, len(subNames))
		for _, s := range subNames {
			subs = append(subs, []any{name + "|" + s, int64(-2), []any{}, int64(0), int64(0), int64(0), categories(c.Subcommands[s]), []any{}, []any{}, []any{}})
		}
		out = append(out, []any{name, int64(-1), []any{}, int64(0), int64(0), int64(0), categories(c.Categories), []any{}, []any{}, subs})
	}
	return out
}

func categories(cs []string) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = "@" + c
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
