package collector

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
)

func commandTablesLen() int { return commandTables.Len() }

// TestShareCommandTable: equal COMMAND INFO parses of two targets are one
// table; a parse that differs in any part (a category, a subcommand, its
// categories) is a table of its own; names are looked up in any case; a table
// no target holds leaves the shared tables.
func TestShareCommandTable(t *testing.T) {
	parse := func() map[string]aclrule.CommandInfo {
		return map[string]aclrule.CommandInfo{
			"flushall": {Name: "flushall", Categories: []string{"@keyspace", "@write", "@slow", "@dangerous"}},
			"config": {Name: "config", Categories: []string{"@slow"}, Subcommands: map[string][]string{
				"set": {"@admin", "@slow", "@dangerous"}, "get": {"@admin", "@slow", "@dangerous"}}},
		}
	}
	// Tables of earlier tests that nothing holds any more are collected
	// first, so that the count below sees only this test's.
	before := commandTablesLen()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if n := commandTablesLen(); n == before {
			break
		} else {
			before = n
		}
	}
	base := shareCommandTable(parse())
	if again := shareCommandTable(parse()); again != base {
		t.Error("two equal parses are two tables")
	}
	for name, change := range map[string]func(map[string]aclrule.CommandInfo){
		"a command's category": func(m map[string]aclrule.CommandInfo) {
			m["flushall"] = aclrule.CommandInfo{Name: "flushall", Categories: []string{"@keyspace", "@write", "@slow"}}
		},
		"a subcommand's category": func(m map[string]aclrule.CommandInfo) { m["config"].Subcommands["set"] = []string{"@admin"} },
		"a subcommand less":       func(m map[string]aclrule.CommandInfo) { delete(m["config"].Subcommands, "get") },
		"a command less":          func(m map[string]aclrule.CommandInfo) { delete(m, "flushall") },
		"a renamed command":       func(m map[string]aclrule.CommandInfo) { m["flushall2"] = m["flushall"]; delete(m, "flushall") },
	} {
		m := parse()
		change(m)
		if got := shareCommandTable(m); got == base || !equalCommandInfo(got.info, m) {
			t.Errorf("%s: got the table of another parse", name)
		}
	}
	for _, n := range []string{"flushall", "FLUSHALL", "FlushAll", "CONFIG"} {
		if ci, ok := base.lookup(n); !ok || ci.Name != strings.ToLower(n) {
			t.Errorf("lookup(%q) = %v, %v", n, ci, ok)
		}
	}
	if _, ok := base.lookup("keys"); ok {
		t.Error("lookup found a command the table does not have")
	}
	// Only ASCII names get an upper-case alias: "CONFIG" is not the
	// "confıg" (dotless i) a server may list.
	dotless := shareCommandTable(map[string]aclrule.CommandInfo{"confıg": {Name: "confıg"}})
	if ci, ok := dotless.lookup("CONFIG"); ok {
		t.Errorf("lookup(CONFIG) found %q", ci.Name)
	}
	runtime.KeepAlive(dotless)
	runtime.KeepAlive(base)
	base = nil
	deadline := time.Now().Add(5 * time.Second)
	for commandTablesLen() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d tables no target holds stay shared", commandTablesLen())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
