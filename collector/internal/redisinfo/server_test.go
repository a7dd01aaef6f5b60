package redisinfo_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func TestParseVersion(t *testing.T) {
	v := func(major, minor, patch int) redisinfo.Version {
		return redisinfo.Version{Major: major, Minor: minor, Patch: patch}
	}
	for _, tc := range []struct {
		in      string
		want    redisinfo.Version
		wantErr bool
	}{
		{"7.2.4", v(7, 2, 4), false},
		{"6.2.16", v(6, 2, 16), false},
		{"8.0", v(8, 0, 0), false},       // patch is optional
		{"7.2.4-rc1", v(7, 2, 4), false}, // suffix ignored
		{"7.2-rc1", v(7, 2, 0), false},   // suffix on the minor
		{"7.2.4.5", v(7, 2, 4), false},   // extra components ignored
		{"7.2.x", v(7, 2, 0), false},     // non-numeric patch treated as 0
		{"255.255.255", v(255, 255, 255), false},
		{"", redisinfo.Version{}, true},
		{"7", redisinfo.Version{}, true},                      // minor is required
		{"x.y", redisinfo.Version{}, true},                    // major not a number
		{"7.x", redisinfo.Version{}, true},                    // minor not a number
		{"v7.2.4", redisinfo.Version{}, true},                 // prefix not accepted
		{" 7.2.4", redisinfo.Version{}, true},                 // leading space
		{"-7.2.4", redisinfo.Version{}, true},                 // sign
		{"99999999999999999999.1", redisinfo.Version{}, true}, // overflows int
		{"2000000.1.1", redisinfo.Version{}, true},            // absurdly large
	} {
		got, err := redisinfo.ParseVersion(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseVersion(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestVersionStringAndAtLeast(t *testing.T) {
	v := redisinfo.Version{Major: 7, Minor: 2, Patch: 4}
	if got := v.String(); got != "7.2.4" {
		t.Errorf("String() = %q", got)
	}
	for _, tc := range []struct {
		major, minor int
		want         bool
	}{
		{6, 2, true}, {7, 0, true}, {7, 2, true}, {7, 3, false}, {8, 0, false}, {6, 9, true},
	} {
		if got := v.AtLeast(tc.major, tc.minor); got != tc.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v, want %v", v, tc.major, tc.minor, got, tc.want)
		}
	}
}

func TestServerSamples(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    redisinfo.Server
	}{
		{"redis-6.2", redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(6, 2, 16), CompatVersion: ver(6, 2, 16),
			RunID: "01774e2b0a25f7d196fafb97842b2b359c1b4a49", Mode: "standalone", Role: "master"}},
		{"redis-7.0", redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 0, 15), CompatVersion: ver(7, 0, 15),
			RunID: "58a482430448e298866f6af1d542d9f91075f558", Mode: "standalone", Role: "master"}},
		{"redis-7.2", redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 2, 6), CompatVersion: ver(7, 2, 6),
			RunID: "196d4cee0144cdbad798cea3d45c8d9336478240", Mode: "standalone", Role: "master"}},
		{"redis-7.4", redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 4, 1), CompatVersion: ver(7, 4, 1),
			RunID: "8cac593c76baf2707c5e20979c135f43f0833422", Mode: "standalone", Role: "master"}},
		// Valkey reports redis_version:7.2.4 for compatibility, its own
		// version in valkey_version, and server_mode instead of redis_mode.
		{"valkey-8.0", redisinfo.Server{Flavor: redisinfo.FlavorValkey, Version: ver(8, 0, 1), CompatVersion: ver(7, 2, 4),
			RunID: "be944215442ce3ab8ec48f052528fbfbe110eb0f", Mode: "standalone", Role: "master"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			got, err := redisinfo.Parse(sampleInfo(t, tc.version)).Server()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Server() = %+v\nwant       %+v", got, tc.want)
			}
		})
	}
}

func ver(major, minor, patch int) redisinfo.Version {
	return redisinfo.Version{Major: major, Minor: minor, Patch: patch}
}

func TestServerSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		want       redisinfo.Server
		wantErr    bool
	}{
		{
			name: "replica reports role:slave",
			info: "redis_version:7.0.15\r\nredis_mode:standalone\r\nrole:slave\r\nmaster_host:10.0.0.5\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 0, 15), CompatVersion: ver(7, 0, 15), Mode: "standalone", Role: "replica"},
		},
		{
			name: "cluster mode",
			info: "redis_version:7.4.1\r\nredis_mode:cluster\r\nrole:master\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 4, 1), CompatVersion: ver(7, 4, 1), Mode: "cluster", Role: "master"},
		},
		{
			name: "sentinel without replication section",
			info: "redis_version:6.2.16\r\nredis_mode:sentinel\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(6, 2, 16), CompatVersion: ver(6, 2, 16), Mode: "sentinel"},
		},
		{
			// Valkey 7.2 still has redis_mode; Valkey 8 renamed it.
			name: "valkey 7.2 with redis_mode",
			info: "redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:7.2.7\r\nredis_mode:cluster\r\nrole:slave\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorValkey, Version: ver(7, 2, 7), CompatVersion: ver(7, 2, 4), Mode: "cluster", Role: "replica"},
		},
		{
			name: "valkey without valkey_version keeps the compat version",
			info: "redis_version:7.2.4\r\nserver_name:valkey\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorValkey, Version: ver(7, 2, 4), CompatVersion: ver(7, 2, 4)},
		},
		{
			// Only the exact name switches flavour: another fork is treated
			// as the Redis version it claims.
			name: "other server_name",
			info: "redis_version:7.2.4\r\nserver_name:keydb\r\nvalkey_version:9.9.9\r\n",
			want: redisinfo.Server{Flavor: redisinfo.FlavorRedis, Version: ver(7, 2, 4), CompatVersion: ver(7, 2, 4)},
		},
		{name: "no redis_version", info: "redis_mode:standalone\r\nrole:master\r\n", wantErr: true},
		{name: "empty reply", info: "", wantErr: true},
		{name: "malformed redis_version", info: "redis_version:unstable\r\n", wantErr: true},
		{name: "malformed valkey_version", info: "redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:x\r\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redisinfo.Parse(tc.info).Server()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Server() error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("Server() = %+v\nwant       %+v", got, tc.want)
			}
		})
	}
}

func TestListenersSamples(t *testing.T) {
	// Every sample server ran with "bind 127.0.0.1 -::1" on a random port.
	for _, tc := range []struct {
		version string
		port    string // "" = no listener lines (before 7.2)
	}{
		{"redis-6.2", ""},
		{"redis-7.0", ""},
		{"redis-7.2", "24337"},
		{"redis-7.4", "24382"},
		{"valkey-8.0", "24636"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			ls, ok := redisinfo.Parse(sampleInfo(t, tc.version)).Listeners()
			if tc.port == "" {
				if ok || ls != nil {
					t.Fatalf("Listeners() = %v, %v; want none, false", ls, ok)
				}
				return
			}
			// "-::1" (bind if the address exists) is reported without the '-'.
			want := []redisinfo.Listener{
				{Transport: "tcp", Address: "127.0.0.1", Port: tc.port},
				{Transport: "tcp", Address: "::1", Port: tc.port},
			}
			if !ok || !reflect.DeepEqual(ls, want) {
				t.Fatalf("Listeners() = %+v, %v; want %+v, true", ls, ok, want)
			}
		})
	}
}

func TestListenersSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		want       []redisinfo.Listener
		ok         bool
	}{
		{
			name: "tcp, tls and unix",
			info: "listener0:name=tcp,bind=*,bind=-::*,port=6379\r\n" +
				"listener1:name=tls,bind=10.0.0.1,port=6380\r\n" +
				"listener2:name=unix,bind=/run/redis/redis.sock\r\n",
			want: []redisinfo.Listener{
				{Transport: "tcp", Address: "*", Port: "6379"},
				{Transport: "tcp", Address: "::*", Port: "6379"},
				{Transport: "tls", Address: "10.0.0.1", Port: "6380"},
				{Transport: "unix", Address: "/run/redis/redis.sock"},
			},
			ok: true,
		},
		{
			// A port on a unix listener means nothing: dropped so that the
			// label is "" as documented.
			name: "unix with port",
			info: "listener0:name=unix,bind=/tmp/r.sock,port=0\r\n",
			want: []redisinfo.Listener{{Transport: "unix", Address: "/tmp/r.sock"}},
			ok:   true,
		},
		{
			// Redis prints the socket path as configured: commas in it are
			// part of the path, not field separators.
			name: "unix path with commas",
			info: "listener0:name=unix,bind=/tmp/a,b=c,bind=d/r.sock\r\n",
			want: []redisinfo.Listener{{Transport: "unix", Address: "/tmp/a,b=c,bind=d/r.sock"}},
			ok:   true,
		},
		{
			// The feature exists (ok) but the line lists no address.
			name: "listener without bind",
			info: "listener0:name=tcp,port=6379\r\n",
			want: nil,
			ok:   true,
		},
		{
			// Only listener<N> lines are listeners.
			name: "non-numeric suffix ignored",
			info: "listeners_total:3\r\nlistener:name=tcp,bind=1.2.3.4,port=1\r\n",
			want: nil,
			ok:   false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls, ok := redisinfo.Parse(tc.info).Listeners()
			if ok != tc.ok || !reflect.DeepEqual(ls, tc.want) {
				t.Errorf("Listeners() = %+v, %v; want %+v, %v", ls, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestModules(t *testing.T) {
	// No sample server loaded a module, but Redis 8 lists its built-in
	// vectorset and Valkey 9 its Lua engine as modules.
	builtin := map[string][]redisinfo.Module{
		"redis-8.0":  {{Name: "vectorset", Version: "1"}},
		"valkey-9.1": {{Name: "lua", Version: "1"}},
	}
	for _, v := range sampleVersions {
		ms, ok := redisinfo.Parse(sampleInfo(t, v)).Modules()
		if !ok || !reflect.DeepEqual(ms, builtin[v]) {
			t.Errorf("%s: Modules() = %v, %v; want %v, true", v, ms, ok, builtin[v])
		}
	}

	// The "module" key repeats once per module: every line must be kept.
	two := "# Modules\r\n" +
		"module:name=search,ver=20812,api=1,filters=0,usedby=[],using=[ReJSON],options=[handle-io-errors]\r\n" +
		"module:name=ReJSON,ver=20609,api=1,filters=0,usedby=[search],using=[],options=[]\r\n" +
		"# Errorstats\r\n"
	ms, ok := redisinfo.Parse(two).Modules()
	want := []redisinfo.Module{{Name: "search", Version: "20812"}, {Name: "ReJSON", Version: "20609"}}
	if !ok || !reflect.DeepEqual(ms, want) {
		t.Errorf("Modules() = %+v, %v; want %+v, true", ms, ok, want)
	}
	// A module line is not a field.
	if _, ok := redisinfo.Parse(two).Get("module"); ok {
		t.Error("module line stored as a field")
	}

	// No section (e.g. INFO without the modules section): unknown.
	if ms, ok := redisinfo.Parse("# Server\r\nredis_version:7.0.0\r\n").Modules(); ok || ms != nil {
		t.Errorf("no section: Modules() = %v, %v; want nil, false", ms, ok)
	}
}

// The samples are the reference for every parser: make sure they are what
// the tests think they are (a stale copy would make the tests meaningless).
func TestSamplesAreInfoReplies(t *testing.T) {
	for _, v := range sampleVersions {
		s := sampleInfo(t, v)
		if !strings.HasPrefix(s, "# Server\r\n") || !strings.Contains(s, "\r\n# Errorstats\r\n") {
			t.Errorf("%s: info_all does not look like INFO ALL of a 6.2+ server", v)
		}
	}
}
