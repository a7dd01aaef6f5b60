package collector

import (
	"fmt"
	"strings"
	"testing"
)

// TestCommandKey: a command's name and a container's subcommand are read
// case-insensitively, as Redis reads them; every other argument (an ACL user
// name, a COMMAND INFO name, a count) is kept as it is.
func TestCommandKey(t *testing.T) {
	long := append([]string{"COMMAND", "INFO"}, strings.Fields(strings.Repeat("FLUSHALL FLUSHDB ", 10))...)
	for _, tc := range []struct {
		a, b []string
		same bool
	}{
		{[]string{"ACL", "LIST"}, []string{"acl", "list"}, true},
		{[]string{"Acl", "Log", "128"}, []string{"acl", "log", "128"}, true},
		{[]string{"ACL", "DRYRUN", "Ops", "FLUSHDB"}, []string{"acl", "dryrun", "Ops", "FLUSHDB"}, true},
		{[]string{"ACL", "DRYRUN", "Ops", "FLUSHDB"}, []string{"ACL", "DRYRUN", "ops", "FLUSHDB"}, false},
		{[]string{"EVAL", "return 1", "0"}, []string{"EVAL", "RETURN 1", "0"}, false}, // not a container: the script is an argument
		{[]string{"CLIENT", "LIST", "TYPE", "normal"}, []string{"client", "list", "TYPE", "normal"}, true},
		{[]string{"ACL", "LIST"}, []string{"ACL", "LIST", ""}, false},
		{[]string{"ACL\x00LIST"}, []string{"ACL", "LIST"}, true}, // NUL separates; no caller sends one
		{long, append([]string{"command", "info"}, long[2:]...), true},
	} {
		if got := commandKey(tc.a) == commandKey(tc.b); got != tc.same {
			t.Errorf("commandKey(%q) == commandKey(%q): %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
	if k := commandKey([]string{"ACL", "DRYRUN", "Ops"}); k != "acl\x00dryrun\x00Ops" {
		t.Errorf("key %q", k)
	}
}

// TestPlanCommandKeepsCaseSensitiveRequestsApart: two DRYRUN requests that
// differ in a user name's case are two requests, each with its own reply.
func TestPlanCommandKeepsCaseSensitiveRequestsApart(t *testing.T) {
	p := NewPlan(Facts{})
	p.Command("ACL", "LIST")
	p.Command("acl", "list")
	p.Command("ACL", "DRYRUN", "Ops", "FLUSHDB")
	p.Command("ACL", "DRYRUN", "ops", "FLUSHDB")
	calls := p.FollowUpCalls()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3: %v", len(calls), calls)
	}
	results := make([]Result, len(calls))
	for i, c := range calls {
		results[i] = Result{Value: fmt.Sprintln(c.Args...)} // each reply names its own request
	}
	r, err := NewReplies(p, calls, results)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"Ops", "ops"} {
		v, err := r.Command("ACL", "DRYRUN", user, "FLUSHDB")
		if err != nil || v != "ACL DRYRUN "+user+" FLUSHDB\n" {
			t.Errorf("DRYRUN %s: %v, %v", user, v, err)
		}
	}
	if !r.Requested("Acl", "List") {
		t.Error("ACL LIST not found in another case")
	}
}
