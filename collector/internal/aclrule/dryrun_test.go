package aclrule_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

func TestParseDryRunSamples(t *testing.T) {
	// Users of the recording (testdata/README.md): alice -@all +get +set,
	// bob +@all -@dangerous, ops +@all with FLUSHALL disabled by rename-command.
	want := map[string][2]bool{
		"acl_dryrun_alice_config": {false, true}, // CONFIG GET dir
		"acl_dryrun_bob_flushdb":  {false, true},
		"acl_dryrun_bob_get":      {true, true},
		"acl_dryrun_ops_flushall": {false, false}, // ERR Command 'flushall' not found
	}
	for _, v := range sampleVersions {
		for name, w := range want {
			res, err := redistest.ReadSample("testdata", v, name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(v, "redis-6.") {
				// No DRYRUN before 7.0: every answer is an error.
				if res.Err == nil {
					t.Errorf("%s %s: not an error: %v", v, name, res.Value)
				}
				w = [2]bool{false, false}
			}
			allowed, known := aclrule.ParseDryRun(res.Value, res.Err)
			if allowed != w[0] || known != w[1] {
				t.Errorf("%s %s (%v, %v): got (%v, %v), want %v", v, name, res.Value, res.Err, allowed, known, w)
			}
		}
	}
}

func TestParseDryRun(t *testing.T) {
	cases := []struct {
		reply          any
		err            error
		allowed, known bool
	}{
		{"OK", nil, true, true},
		{"This user has no permissions to run the 'flushall' command", nil, false, true},
		{"User bob has no permissions to run the 'config|set' command", nil, false, true},
		{"This user has no permissions to access the 'k' key", nil, true, true},
		{"User bob has no permissions to access the 'k' key", nil, true, true},
		{"User bob has no permissions to access the 'news' channel", nil, true, true},
		{nil, collector.ServerError("ERR Command 'flushall' not found"), false, false},
		{nil, collector.ServerError("ERR User 'nobody' not found"), false, false},
		{nil, collector.ServerError("ERR Unknown subcommand or wrong number of arguments for 'DRYRUN'. Try ACL HELP."), false, false},
		{nil, collector.ServerError("ERR wrong number of arguments for 'config|set' command"), false, false},
		{nil, errors.New("i/o timeout"), false, false},
		// Also an error with a reply value: the error wins.
		{"OK", errors.New("i/o timeout"), false, false},
		// Unknown shapes are not guessed at.
		{"", nil, false, false},
		{"ok", nil, false, false},
		{int64(1), nil, false, false},
		{[]any{"OK"}, nil, false, false},
		{nil, nil, false, false},
		{"User bob", nil, false, false},
		{"User bob has no permissions to access the '0' database", nil, false, false},
		{"This user has no permissions to run the 'x'", nil, false, false},
		{"Somebody has no permissions to run the 'x' command", nil, false, false},
	}
	for _, c := range cases {
		allowed, known := aclrule.ParseDryRun(c.reply, c.err)
		if allowed != c.allowed || known != c.known {
			t.Errorf("ParseDryRun(%#v, %v) = (%v, %v), want (%v, %v)", c.reply, c.err, allowed, known, c.allowed, c.known)
		}
	}
}

func TestDangerousCommandProbes(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range aclrule.DangerousCommandProbes {
		if p.Command != strings.ToUpper(p.Command) || seen[p.Command] {
			t.Errorf("%q: not upper case or listed twice", p.Command)
		}
		seen[p.Command] = true
		if len(p.Args) == 0 || p.Args[0] != p.Command {
			t.Errorf("%s: Args %q do not start with the command", p.Command, p.Args)
		}
		if p.Sub != "" && p.FirstArg() != p.Sub {
			t.Errorf("%s: Sub %q is not Args[1] %q", p.Command, p.Sub, p.FirstArg())
		}
	}
	// The default list of metrics.md, in its order.
	want := strings.Fields("FLUSHALL FLUSHDB CONFIG DEBUG SHUTDOWN MODULE KEYS EVAL EVALSHA SCRIPT FUNCTION MONITOR REPLICAOF SLAVEOF MIGRATE RESTORE SAVE BGSAVE BGREWRITEAOF SWAPDB CLUSTER ACL CLIENT SYNC PSYNC FAILOVER")
	if len(want) != len(aclrule.DangerousCommandProbes) {
		t.Fatalf("%d probes, want %d", len(aclrule.DangerousCommandProbes), len(want))
	}
	for i, p := range aclrule.DangerousCommandProbes {
		if p.Command != want[i] {
			t.Errorf("probe %d is %s, want %s", i, p.Command, want[i])
		}
	}
}
