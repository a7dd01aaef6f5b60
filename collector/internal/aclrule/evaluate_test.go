package aclrule_test

import (
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
)

// Offline cases, including 6.x shapes the real-server test cannot cover
// (Redis 7.0 is the only server installable here; see redis_test.go).
func TestAllowsOffline(t *testing.T) {
	v6config := []string{"admin", "slow", "dangerous"} // 6.2 CONFIG, any subcommand
	v7configSet := []string{"slow", "admin", "dangerous"}
	v7configGet := []string{"slow", "admin", "dangerous"}
	flushall := []string{"@keyspace", "@write", "@slow", "@dangerous"} // with '@' as the server sends them
	cases := []struct {
		line     string
		cmd, sub string
		cats     []string
		want     bool
	}{
		{"user u on +@all", "FLUSHALL", "", flushall, true},
		{"user u on", "FLUSHALL", "", flushall, false},
		{"user u on -@all", "FLUSHALL", "", flushall, false},
		{"user u on +@all -@dangerous", "FLUSHALL", "", flushall, false},
		{"user u on +@all -@DANGEROUS", "flushall", "", flushall, false},
		{"user u on -@all +FlushAll", "FLUSHALL", "", flushall, true},
		{"user u on allcommands nocommands +ping", "FLUSHALL", "", flushall, false},
		{"user u on nocommands allcommands", "FLUSHALL", "", flushall, true},
		{"user u on +@all -flushall", "FLUSHALL", "", flushall, false},
		{"user u on +@all -flushall +@write", "FLUSHALL", "", flushall, true},
		{"user u on +@read", "FLUSHALL", "", flushall, false},
		// 6.x ACL LIST as synthesized by 6.2: container with its categories,
		// subcommands only as first args.
		{"user u on -@all +config|get", "CONFIG", "GET", v6config, true},
		{"user u on -@all +config|get", "CONFIG", "SET", v6config, false},
		{"user u on -@all +config|get", "CONFIG", "", v6config, false},
		{"user u on -@all +@admin", "CONFIG", "SET", v6config, true},
		{"user u on +@all -@dangerous +config|get", "CONFIG", "get", v6config, true},
		{"user u on +@all -@dangerous +config|get", "CONFIG", "SET", v6config, false},
		{"user u on -@all +config|get -@admin", "CONFIG", "GET", v6config, false},
		{"user u on -@all +config|get -@read", "CONFIG", "GET", v6config, true},
		{"user u on -@all +select|a|b", "SELECT", "a|b", nil, true}, // 6.x splits at the first '|'
		// 7.0 containers.
		{"user u on +@all -config|set", "CONFIG", "SET", v7configSet, false},
		{"user u on +@all -config|set", "CONFIG", "GET", v7configGet, true},
		{"user u on -@all +config -config|set", "CONFIG", "GET", v7configGet, true},
		{"user u on -@all +config -config|set", "CONFIG", "SET", v7configSet, false},
		{"user u on -@all +config|set -config", "CONFIG", "SET", v7configSet, false},
		// First-arg rules on a non-container.
		{"user u on -@all +debug|object", "DEBUG", "SLEEP", v6config, false},
		{"user u on -@all +debug|sleep", "DEBUG", "SLEEP", v6config, true},
		{"user u on -@all +debug|sleep -@admin", "DEBUG", "SLEEP", v6config, false},
		// Selectors (7.0+): root or any selector.
		{"user u on -@all +get (+flushall ~*)", "FLUSHALL", "", flushall, true},
		{"user u on -@all +get (-@all +get) (+@read)", "FLUSHALL", "", flushall, false},
		{"user u on +@all -@dangerous (+@dangerous -flushall)", "FLUSHALL", "", flushall, false},
		// Key and channel rules play no part.
		{"user u on resetkeys resetchannels +flushall", "FLUSHALL", "", flushall, true},
		// Unknown tokens are ignored.
		{"user u on +@all db=0 -", "FLUSHALL", "", flushall, true},
	}
	for _, c := range cases {
		u, err := aclrule.Parse(c.line)
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		if got := u.Allows(c.cmd, c.sub, c.cats); got != c.want {
			t.Errorf("%q: Allows(%s, %q) = %v, want %v", c.line, c.cmd, c.sub, got, c.want)
		}
	}
}
