package aclrule_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// sampleVersions (aclrule_test.go) are the servers recorded in testdata.

func readCommandInfo(t *testing.T, version string) []any {
	t.Helper()
	res, err := redistest.ReadSample("testdata", version, "command_info")
	if err != nil || res.Err != nil {
		t.Fatalf("%s: %v %v", version, err, res.Err)
	}
	arr, ok := res.Value.([]any)
	if !ok {
		t.Fatalf("%s: reply is %T", version, res.Value)
	}
	return arr
}

func TestParseCommandInfoSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			infos, err := aclrule.ParseCommandInfo(readCommandInfo(t, v))
			if err != nil {
				t.Fatal(err)
			}
			// flushall (rename-command to "") and debug (renamed) are nil.
			var names []string
			for k, ci := range infos {
				if k != ci.Name {
					t.Errorf("key %q holds %q", k, ci.Name)
				}
				names = append(names, k)
			}
			slices.Sort(names)
			if want := []string{"config", "eval", "keys", "module"}; !slices.Equal(names, want) {
				t.Fatalf("commands %v, want %v", names, want)
			}
			keys := infos["keys"]
			if want := []string{"keyspace", "read", "slow", "dangerous"}; !slices.Equal(keys.Categories, want) || keys.IsContainer() {
				t.Errorf("keys = %+v", keys)
			}
			if !slices.Equal(infos["eval"].Categories, []string{"slow", "scripting"}) {
				t.Errorf("eval = %+v", infos["eval"])
			}
			cfg := infos["config"]
			if strings.HasPrefix(v, "redis-6.") {
				// 6.x: no subcommands, the container carries their categories.
				if cfg.IsContainer() || !slices.Equal(cfg.Categories, []string{"admin", "slow", "dangerous"}) {
					t.Errorf("config = %+v", cfg)
				}
				if got := cfg.CategoriesFor("SET"); !slices.Equal(got, cfg.Categories) {
					t.Errorf("6.x CategoriesFor(SET) = %v", got)
				}
				return
			}
			// 7.0+: the container is only @slow, each subcommand has its own.
			if !cfg.IsContainer() || !slices.Equal(cfg.Categories, []string{"slow"}) {
				t.Errorf("config = %+v", cfg)
			}
			if len(cfg.Subcommands) != 5 {
				t.Errorf("config has %d subcommands, want 5 (get set resetstat rewrite help): %v", len(cfg.Subcommands), cfg.Subcommands)
			}
			for _, sub := range []string{"get", "set", "resetstat", "rewrite"} {
				if !slices.Equal(cfg.Subcommands[sub], []string{"admin", "slow", "dangerous"}) {
					t.Errorf("config|%s = %v", sub, cfg.Subcommands[sub])
				}
			}
			if !slices.Equal(cfg.Subcommands["help"], []string{"slow"}) {
				t.Errorf("config|help = %v", cfg.Subcommands["help"])
			}
			if got := cfg.CategoriesFor("SET"); !slices.Equal(got, []string{"slow", "admin", "dangerous"}) {
				t.Errorf("CategoriesFor(SET) = %v", got)
			}
			if got := cfg.CategoriesFor("nosuch"); !slices.Equal(got, []string{"slow"}) {
				t.Errorf("CategoriesFor(nosuch) = %v", got)
			}
			if !slices.Equal(infos["module"].Subcommands["load"], []string{"admin", "slow", "dangerous"}) {
				t.Errorf("module|load = %v", infos["module"].Subcommands["load"])
			}
		})
	}
}

// entry builds a COMMAND INFO entry of n elements with name and categories.
func entry(n int, name string, cats ...any) []any {
	e := make([]any, n)
	e[0], e[1], e[2] = name, int64(-2), []any{}
	e[3], e[4], e[5] = int64(0), int64(0), int64(0)
	e[6] = append([]any{}, cats...)
	for i := 7; i < n; i++ {
		e[i] = []any{}
	}
	return e
}

func TestParseCommandInfoShapes(t *testing.T) {
	// Extra elements (a future server) are ignored; names and categories are
	// lower-cased; categories without '@' are accepted; nil subcommand
	// entries are skipped.
	future := entry(12, "CONFIG", "@Slow")
	sub := entry(10, "config|SET", "@admin", "dangerous")
	future[9] = []any{sub, nil}
	infos, err := aclrule.ParseCommandInfo([]any{nil, future, entry(7, "get", "@read")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := infos["config"]
	if cfg.Name != "config" || !slices.Equal(cfg.Categories, []string{"slow"}) || !slices.Equal(cfg.Subcommands["set"], []string{"admin", "dangerous"}) || len(cfg.Subcommands) != 1 {
		t.Errorf("config = %+v", cfg)
	}
	if g := infos["get"]; g.IsContainer() || !slices.Equal(g.Categories, []string{"read"}) {
		t.Errorf("get = %+v", g)
	}
	// A subcommand named without the container prefix is kept whole.
	odd := entry(10, "client", "@slow")
	odd[9] = []any{entry(10, "kill", "@admin")}
	if infos, err := aclrule.ParseCommandInfo([]any{odd}); err != nil || infos["client"].Subcommands["kill"] == nil {
		t.Errorf("unprefixed subcommand: %v %+v", err, infos)
	}
	// Empty reply, all-nil reply.
	if infos, err := aclrule.ParseCommandInfo(nil); err != nil || len(infos) != 0 {
		t.Errorf("nil reply: %v %v", infos, err)
	}
	if infos, err := aclrule.ParseCommandInfo([]any{nil, nil}); err != nil || len(infos) != 0 {
		t.Errorf("all nil: %v %v", infos, err)
	}

	bad := map[string][]any{
		"entry not an array":       {"config"},
		"short entry":              {[]any{"config", int64(-2)}},
		"name not a string":        {func() []any { e := entry(7, "x"); e[0] = int64(1); return e }()},
		"empty name":               {entry(7, "")},
		"categories not an array":  {func() []any { e := entry(7, "x"); e[6] = "@admin"; return e }()},
		"category not a string":    {entry(7, "x", int64(3))},
		"subcommands not an array": {func() []any { e := entry(10, "x"); e[9] = "config|get"; return e }()},
		"bad subcommand":           {func() []any { e := entry(10, "x"); e[9] = []any{[]any{"x|y"}}; return e }()},
	}
	for name, reply := range bad {
		if infos, err := aclrule.ParseCommandInfo(reply); err == nil {
			t.Errorf("%s: accepted: %+v", name, infos)
		}
	}
}
