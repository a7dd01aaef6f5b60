package collector_test

import (
	"slices"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func TestPlanEncoding(t *testing.T) {
	known := func(major, minor int) collector.Facts {
		v := redisinfo.Version{Major: major, Minor: minor}
		return collector.Facts{Known: true, Server: redisinfo.Server{Version: v, CompatVersion: v}}
	}
	for _, tc := range []struct {
		name            string
		facts           collector.Facts
		wantConfigCalls int  // 0 = one call per parameter
		wantMaxclients  bool // requested from CONFIG: INFO has it from 6.2 on
		wantInfoArgs    int
	}{
		// First scrape: only what every version accepts.
		{"unknown", collector.Facts{}, 0, true, 1},
		{"6.0", known(6, 0), 0, true, 1},
		{"6.2", known(6, 2), 0, false, 1},
		{"7.0", known(7, 0), 1, false, 7},
		{"valkey 8 (compat 7.2)", known(7, 2), 1, false, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := collector.NewPlan(tc.facts)
			for _, s := range scrapers() {
				s.Plan(p)
			}
			calls := p.Calls()
			if calls[0].Name != "info" || len(calls[0].Args) != tc.wantInfoArgs {
				t.Errorf("first call %v, want INFO with %d args", calls[0].Args, tc.wantInfoArgs)
			}
			var params []string
			configCalls := 0
			for _, c := range calls {
				if c.Name != "config|get" {
					continue
				}
				configCalls++
				if tc.wantConfigCalls == 0 && len(c.Args) != 3 {
					t.Errorf("%v: want one parameter per CONFIG GET", c.Args)
				}
				for _, a := range c.Args[2:] {
					params = append(params, a.(string))
				}
			}
			if tc.wantConfigCalls != 0 && configCalls != tc.wantConfigCalls {
				t.Errorf("%d CONFIG GET calls, want %d", configCalls, tc.wantConfigCalls)
			}
			if got := slices.Contains(params, "maxclients"); got != tc.wantMaxclients {
				t.Errorf("maxclients requested = %v, want %v", got, tc.wantMaxclients)
			}
			if len(params) != len(dedupeStrings(params)) {
				t.Errorf("a parameter is requested twice: %v", params)
			}
			// The plan of unknown facts covers what a 6.x plan needs, so
			// a 6.x first scrape needs no second round trip.
			if !tc.facts.Known {
				p62 := collector.NewPlan(known(6, 2))
				for _, s := range scrapers() {
					s.Plan(p62)
				}
				if !p.Covers(p62) {
					t.Error("first-scrape plan does not cover the 6.2 plan")
				}
			}
		})
	}
}

func dedupeStrings(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
