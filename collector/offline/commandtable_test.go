package offline

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

var update = flag.Bool("update", false, "record the live server's command categories into commandtable.json")

// liveCommandRecords reads COMMAND INFO of the dangerous commands from a
// live server.
func liveCommandRecords(t *testing.T, s *redistest.Server) map[string]commandRecord {
	t.Helper()
	args := []any{"COMMAND", "INFO"}
	for _, n := range collector.DefaultDangerousCommands {
		args = append(args, n)
	}
	v, ok := s.Do("", "", args...).([]any)
	if !ok {
		t.Fatal("COMMAND INFO: not an array")
	}
	info, err := aclrule.ParseCommandInfo(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]commandRecord{}
	for name, ci := range info {
		r := commandRecord{Categories: sorted(ci.Categories)}
		for sub, cats := range ci.Subcommands {
			if r.Subcommands == nil {
				r.Subcommands = map[string][]string{}
			}
			r.Subcommands[sub] = sorted(cats)
		}
		out[name] = r
	}
	return out
}

func sorted(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}

// TestCommandTable: the table the offline audit picks for the live server's
// version holds exactly the categories that server reports for every
// dangerous command. make compat runs it against every server tested live,
// so a branch whose categories changed fails here until it is recorded
// (-update).
func TestCommandTable(t *testing.T) {
	s := redistest.Start(t, "")
	id := s.Identity("", "")
	live := liveCommandRecords(t, s)
	tables, err := loadCommandTables()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		key := branchKey(id.Flavor, id.Version)
		var kept []commandTable // the loaded tables are shared: never modified
		for _, tb := range tables.Tables {
			if tb.Server != key {
				kept = append(kept, tb)
			}
		}
		tables.Tables = append(kept, commandTable{Server: key, RecordedFrom: string(id.Flavor) + " " + id.Version.String(), Commands: live})
		sort.Slice(tables.Tables, func(i, j int) bool { return tables.Tables[i].Server < tables.Tables[j].Server })
		b, err := json.MarshalIndent(tables, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("commandtable.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s from %s %s", key, id.Flavor, id.Version)
		return
	}
	tb, note, err := tables.tableFor(id.Flavor, id.Version)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range live {
		rec, ok := tb.Commands[name]
		got := commandRecord{Categories: sorted(rec.Categories)}
		for s, c := range rec.Subcommands {
			if got.Subcommands == nil {
				got.Subcommands = map[string][]string{}
			}
			got.Subcommands[s] = sorted(c)
		}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s: table %s (%s) has %s = %+v, the server reports %+v; record it with -update", id.Flavor, id.Version, tb.Server, note, name, got, want)
		}
	}
	for name := range tb.Commands {
		if _, ok := live[name]; !ok {
			t.Errorf("%s %s: table %s has %s, which the server does not know", id.Flavor, id.Version, tb.Server, name)
		}
	}
}
