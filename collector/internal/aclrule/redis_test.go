package aclrule_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// ruleTable are ACL SETUSER rule strings; user u<i> gets rule i. A "( ... )"
// group is one selector (one ACL SETUSER argument).
var ruleTable = []string{
	"+@all",
	"+@all -@dangerous",
	"-@all +get +set",
	"-@all +@admin",
	"+@all -flushall",
	"+@all -config|set",
	"-@all +config|get",
	"-@all +config",
	"+@all -@dangerous +config|get",
	"-@all +@dangerous -keys",
	"allcommands nocommands +ping",
	"+@all -@admin +debug",
	"+@read",
	"+@write -@dangerous",
	"-@all +client|list +client|kill",
	"-@all +@scripting",
	"+@all -eval",
	"-@all +acl|whoami",
	"+@all -@slow",
	"-@all +@keyspace",
	"-@all +@connection",
	"+@all -module|load",
	"", // a new user: no commands
	"nocommands allcommands",
	"-@all +@fast",
	"-@all +@dangerous -@admin",
	"+@all -@write +restore",
	"-@all +@admin -@dangerous",
	"-@all +script|flush +function|flush",
	"+@all -script -function -client +client|kill",
	"-@all +@slow -@scripting +eval",
	"-@all +CONFIG|SET +FlushAll",
	"nocommands +@all -@keyspace +flushdb",
	// Compacted by 7.0's ACL LIST ("-@all", "+@all").
	"-@all +config|get -@admin",
	"+@all -config|set +config",
	"-@all +config -config|set",
	"-@all +config|set -config",
	"-@all +cluster|reset +acl|setuser +module|load -module",
	// First-arg rules on commands without subcommands (DEBUG SLEEP 0 is probed).
	"-@all +debug|sleep",
	"-@all +debug|object",
	"+@all -debug +debug|SLEEP",
	"-@all +debug|sleep +@read",
	"-@all +debug|sleep +@admin -@admin",
	"-@all +debug|sleep -debug",
	"-@all +select|0",
	"+@all -select +select|1",
	// Selectors (7.0+): allowed when the root or any selector allows.
	"-@all +get (+flushall)",
	"-@all (+@admin -@dangerous) (~* +keys)",
	"+@all -@dangerous (+@dangerous -flushall -config|set) (+config|set)",
	"-@all (-@all +debug|sleep) (+migrate)",
}

// extraProbes are test-only calls next to DangerousCommandProbes, for rules
// on non-dangerous subcommands and first arguments.
var extraProbes = []aclrule.Probe{
	{Command: "CONFIG", Sub: "GET", Args: []string{"CONFIG", "GET", "maxmemory"}},
	{Command: "CONFIG", Sub: "RESETSTAT", Args: []string{"CONFIG", "RESETSTAT"}},
	{Command: "CLIENT", Sub: "LIST", Args: []string{"CLIENT", "LIST"}},
	{Command: "CLIENT", Sub: "ID", Args: []string{"CLIENT", "ID"}},
	{Command: "ACL", Sub: "WHOAMI", Args: []string{"ACL", "WHOAMI"}},
	{Command: "SCRIPT", Sub: "EXISTS", Args: []string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"}},
	{Command: "DEBUG", Args: []string{"DEBUG", "OBJECT", "k"}},
	{Command: "SELECT", Args: []string{"SELECT", "0"}},
	{Command: "SELECT", Args: []string{"SELECT", "1"}},
	{Command: "GET", Args: []string{"GET", "k"}},
	{Command: "PING", Args: []string{"PING"}},
}

// splitRules splits a rule string into ACL SETUSER arguments, keeping each
// "( ... )" selector as one argument.
func splitRules(s string) []string {
	var out []string
	depth, cur := 0, ""
	for _, f := range strings.Fields(s) {
		if cur != "" {
			cur += " "
		}
		cur += f
		depth += strings.Count(f, "(") - strings.Count(f, ")")
		if depth == 0 {
			out = append(out, cur)
			cur = ""
		}
	}
	return out
}

// TestAllowsAgreesWithDryRun proves the evaluator against Redis itself: for
// every rule string and every probe, Allows on the rules as written AND on the
// user's ACL LIST line must give ACL DRYRUN's answer.
func TestAllowsAgreesWithDryRun(t *testing.T) {
	srv := redistest.Start(t, "")
	ctx := context.Background()
	c := srv.Client("", "")
	probes := append(append([]aclrule.Probe(nil), aclrule.DangerousCommandProbes...), extraProbes...)

	// COMMAND INFO from the server, for the evaluator and to check arities.
	args := []any{"COMMAND", "INFO"}
	seen := map[string]bool{}
	for _, p := range probes {
		if !seen[p.Command] {
			seen[p.Command] = true
			args = append(args, p.Command)
		}
	}
	raw, err := c.Do(ctx, args...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	infos, err := aclrule.ParseCommandInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	checkArities(t, raw, probes)

	for i, rules := range ruleTable {
		set := []any{"ACL", "SETUSER", fmt.Sprintf("u%d", i), "on", "nopass"}
		for _, r := range splitRules(rules) {
			set = append(set, r)
		}
		if err := c.Do(ctx, set...).Err(); err != nil {
			t.Fatalf("rule %q: %v", rules, err)
		}
	}
	lines, err := c.Do(ctx, "ACL", "LIST").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]aclrule.User{}
	for _, l := range lines {
		u, err := aclrule.Parse(l)
		if err != nil {
			t.Fatalf("ACL LIST %q: %v", l, err)
		}
		listed[u.Name] = u
	}

	checks, allowedN := 0, 0
	for i, rules := range ruleTable {
		name := fmt.Sprintf("u%d", i)
		written, err := aclrule.Parse("user " + name + " on nopass " + rules)
		if err != nil {
			t.Fatalf("rule %q: %v", rules, err)
		}
		fromList, ok := listed[name]
		if !ok {
			t.Fatalf("rule %q: %s not in ACL LIST", rules, name)
		}
		for _, p := range probes {
			dargs := []any{"ACL", "DRYRUN", name}
			for _, a := range p.Args {
				dargs = append(dargs, a)
			}
			reply, derr := c.Do(ctx, dargs...).Result()
			want, known := aclrule.ParseDryRun(reply, derr)
			if !known {
				t.Errorf("rule %q, %q: DRYRUN answer not understood: %v %v", rules, p.Args, reply, derr)
				continue
			}
			info, ok := infos[strings.ToLower(p.Command)]
			if !ok {
				t.Fatalf("%s: not in COMMAND INFO", p.Command)
			}
			sub := p.FirstArg()
			cats := info.CategoriesFor(sub)
			checks++
			if want {
				allowedN++
			}
			if got := written.Allows(p.Command, sub, cats); got != want {
				t.Errorf("rule %q, %q: Allows = %v, DRYRUN = %v (%v %v)", rules, p.Args, got, want, reply, derr)
			}
			if got := fromList.Allows(p.Command, sub, cats); got != want {
				t.Errorf("rule %q listed as %q, %q: Allows = %v, DRYRUN = %v (%v %v)", rules, fromList.Root.CommandRules, p.Args, got, want, reply, derr)
			}
		}
	}
	t.Logf("%d rule strings x %d probes: %d DRYRUN comparisons (%d allowed), each checked on the written rules and on ACL LIST", len(ruleTable), len(probes), checks, allowedN)
	if len(ruleTable) < 25 || checks != len(ruleTable)*len(probes) {
		t.Fatalf("only %d checks", checks)
	}
	if allowedN == 0 || allowedN == checks {
		t.Fatal("DRYRUN gave one answer for everything")
	}
}

// checkArities fails when a probe's Args do not fit the arity COMMAND INFO
// gives (DRYRUN would reject them and the test would prove nothing).
func checkArities(t *testing.T, raw []any, probes []aclrule.Probe) {
	t.Helper()
	arity := map[string]int64{}
	for _, e := range raw {
		arr, ok := e.([]any)
		if !ok || len(arr) < 2 {
			continue
		}
		name, _ := arr[0].(string)
		arity[name], _ = arr[1].(int64)
		if len(arr) > 9 {
			subs, _ := arr[9].([]any)
			for _, s := range subs {
				if sa, ok := s.([]any); ok && len(sa) > 1 {
					n, _ := sa[0].(string)
					arity[n], _ = sa[1].(int64)
				}
			}
		}
	}
	for _, p := range probes {
		name := strings.ToLower(p.Command)
		if p.Sub != "" {
			name += "|" + strings.ToLower(p.Sub)
		}
		a, ok := arity[name]
		n := int64(len(p.Args))
		switch {
		case !ok:
			t.Errorf("%s: no arity in COMMAND INFO", name)
		case a >= 0 && n != a, a < 0 && n < -a:
			t.Errorf("%q: %d arguments, arity of %s is %d", p.Args, n, name, a)
		}
	}
}
