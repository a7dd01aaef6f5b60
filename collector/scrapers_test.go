package collector_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-security/redis_security_exporter/collector"
)

// Synthetic servers for what the samples do not show: open default users,
// wildcard binds, replicas, modules, unix sockets and hostile names.

const (
	info62 = "# Server\r\nredis_version:6.2.16\r\nredis_mode:standalone\r\n# Replication\r\nrole:master\r\n# Errorstats\r\n"
	info70 = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n# Replication\r\nrole:master\r\n# Errorstats\r\n"
)

// syntheticReplies answers the exporter's plan for the server described by
// info with the given CONFIG values (a parameter missing from config does
// not exist on the server) and ACL LIST lines.
func syntheticReplies(tb testing.TB, info string, config map[string]string, acl ...string) *collector.Replies {
	tb.Helper()
	infoRes := collector.Result{Value: info}
	p := planFor(tb, infoRes)
	calls := p.Calls()
	results := make([]collector.Result, len(calls))
	for i, c := range calls {
		switch c.Name {
		case "info":
			results[i] = infoRes
		case "acl|list":
			lines := make([]any, len(acl))
			for j, l := range acl {
				lines[j] = l
			}
			results[i] = collector.Result{Value: lines}
		case "config|get":
			pairs := []any{}
			for _, a := range c.Args[2:] {
				if v, ok := config[a.(string)]; ok {
					pairs = append(pairs, a, v)
				}
			}
			results[i] = collector.Result{Value: pairs}
		case "acl|log":
			results[i] = collector.Result{Value: []any{}} // an empty log
		default:
			tb.Fatalf("unexpected call %v", c.Args)
		}
	}
	r, err := collector.NewReplies(p, calls, results)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// network returns a CONFIG with the listening parameters set.
func network(bind, port, tlsPort, protectedMode string) map[string]string {
	return map[string]string{"bind": bind, "port": port, "tls-port": tlsPort, "protected-mode": protectedMode}
}

const (
	openDefault   = "user default on nopass ~* &* +@all"
	closedDefault = "user default on #0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef ~* &* +@all"
)

func TestExposedWithoutAuth(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		config     map[string]string
		defaultACL string
		want       string
	}{
		// Redis 6 applies protected mode only when no bind is configured.
		{"6.2 no bind, protected", info62, network("", "6379", "0", "yes"), openDefault, "0"},
		{"6.2 bind all, protected", info62, network("0.0.0.0", "6379", "0", "yes"), openDefault, "1"},
		{"6.2 no bind, unprotected", info62, network("", "6379", "0", "no"), openDefault, "1"},
		{"6.2 private bind, unprotected", info62, network("10.0.0.5", "6379", "0", "no"), openDefault, "1"},
		// 7.0+ applies it whenever default is nopass, bind or not.
		{"7.0 bind all, protected", info70, network("* -::*", "6379", "0", "yes"), openDefault, "0"},
		{"7.0 bind all, unprotected", info70, network("* -::*", "6379", "0", "no"), openDefault, "1"},
		{"7.0 loopback only, unprotected", info70, network("127.0.0.1 -::1", "6379", "0", "no"), openDefault, "0"},
		{"7.0 password set", info70, network("* -::*", "6379", "0", "no"), closedDefault, "0"},
		{"7.0 default user off", info70, network("* -::*", "6379", "0", "no"), "user default off nopass ~* &* +@all", "0"},
		{"7.0 no TCP port", info70, network("*", "0", "0", "no"), openDefault, "0"},
		{"7.0 TLS port only", info70, network("*", "0", "6380", "no"), openDefault, "1"},
		{"7.0 no tls-port parameter (non-TLS build)", info70,
			map[string]string{"bind": "*", "port": "6379", "protected-mode": "no"}, openDefault, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := syntheticReplies(t, tc.info, tc.config, tc.defaultACL)
			c := newTestCollector(r, collector.ACL{})
			reg := c.registry(t)
			auth := "1"
			if tc.defaultACL == openDefault {
				auth = "0"
			}
			want := exposition(t, reg, "redis_security_exposed_without_auth "+tc.want+"\nredis_security_auth_required "+auth+"\n")
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
				"redis_security_exposed_without_auth", "redis_security_auth_required"); err != nil {
				t.Error(err)
			}
			if err := c.err("acl"); err != nil {
				t.Errorf("acl scraper: %v", err)
			}
		})
	}
}

func TestBindMetrics(t *testing.T) {
	for _, tc := range []struct {
		name, info, bind, port string
		all, nonLoopback       string
		listeners              string
	}{
		{"6.2 empty bind listens everywhere", info62, "", "6379", "1", "1", `
			redis_security_listener{address="*",port="6379",transport="tcp"} 1
			redis_security_listener{address="::*",port="6379",transport="tcp"} 1`},
		{"7.0 default bind", info70, "* -::*", "6379", "1", "1", `
			redis_security_listener{address="*",port="6379",transport="tcp"} 1
			redis_security_listener{address="::*",port="6379",transport="tcp"} 1`},
		{"7.0 private address", info70, "10.1.2.3", "6379", "0", "1", `
			redis_security_listener{address="10.1.2.3",port="6379",transport="tcp"} 1`},
		{"7.0 ::0 is every IPv6 address", info70, "::0", "6379", "1", "1", `
			redis_security_listener{address="::0",port="6379",transport="tcp"} 1`},
		// The same address twice must not produce a duplicate series.
		{"7.0 repeated address", info70, "127.0.0.1 -127.0.0.1", "6379", "0", "0", `
			redis_security_listener{address="127.0.0.1",port="6379",transport="tcp"} 1`},
		{"7.0 port 0: nothing listens on TCP", info70, "*", "0", "0", "0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := syntheticReplies(t, tc.info, network(tc.bind, tc.port, "0", "yes"), closedDefault)
			c := newTestCollector(r, collector.Config{})
			reg := c.registry(t)
			want := exposition(t, reg, "redis_security_bind_all_interfaces "+tc.all+
				"\nredis_security_bind_non_loopback "+tc.nonLoopback+"\n"+tc.listeners)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
				"redis_security_bind_all_interfaces", "redis_security_bind_non_loopback", "redis_security_listener"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnixSocket(t *testing.T) {
	for _, tc := range []struct {
		perm, want string
	}{
		{"777", "redis_security_unixsocket_permissions 511\nredis_security_unixsocket_world_accessible 1\n"},
		{"770", "redis_security_unixsocket_permissions 504\nredis_security_unixsocket_world_accessible 0\n"},
		{"702", "redis_security_unixsocket_permissions 450\nredis_security_unixsocket_world_accessible 1\n"},
		// 0: the umask decides, which the exporter cannot see.
		{"0", "redis_security_unixsocket_permissions 0\n"},
	} {
		t.Run(tc.perm, func(t *testing.T) {
			cfg := network("127.0.0.1", "6379", "0", "yes")
			cfg["unixsocket"], cfg["unixsocketperm"] = "/run/redis/redis.sock", tc.perm
			r := syntheticReplies(t, info70, cfg, closedDefault)
			c := newTestCollector(r, collector.Config{})
			reg := c.registry(t)
			want := exposition(t, reg, tc.want+`
				redis_security_listener{address="127.0.0.1",port="6379",transport="tcp"} 1
				redis_security_listener{address="/run/redis/redis.sock",port="",transport="unix"} 1`)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "redis_security_unixsocket_permissions",
				"redis_security_unixsocket_world_accessible", "redis_security_listener"); err != nil {
				t.Error(err)
			}
			if err := c.err("config"); err != nil {
				t.Errorf("config scraper: %v", err)
			}
		})
	}
}

func TestInfoSources(t *testing.T) {
	for _, tc := range []struct {
		name, info, want string
	}{
		{
			// 7.2+ counts every failed AUTH in acl_access_denied_auth,
			// which CONFIG RESETSTAT does not reset: preferred.
			name: "acl_access_denied_auth wins",
			info: "redis_version:7.2.4\r\nrole:master\r\nacl_access_denied_auth:7\r\n# Errorstats\r\nerrorstat_WRONGPASS:count=3\r\n",
			want: `redis_security_auth_failures_total 7
				redis_security_error_replies_total{error="NOAUTH"} 0
				redis_security_error_replies_total{error="NOPERM"} 0
				redis_security_error_replies_total{error="WRONGPASS"} 3
				redis_security_acl_denied_total{reason="auth"} 7`,
		},
		{
			// Before 6.2 there is neither: the counters are omitted.
			name: "6.0 has no source",
			info: "redis_version:6.0.20\r\nrole:master\r\n",
		},
		{
			// More than 128 error codes: errorstats stops counting and
			// its numbers are omitted rather than reported frozen.
			name: "errorstats disabled",
			info: "redis_version:7.4.1\r\nrole:master\r\n# Errorstats\r\nerrorstat_ERRORSTATS_DISABLED:count=1\r\nerrorstat_WRONGPASS:count=3\r\n",
		},
		{
			name: "replica with modules",
			info: "redis_version:7.4.1\r\nredis_mode:standalone\r\n# Replication\r\nrole:slave\r\nmaster_host:203.0.113.9\r\nmaster_port:6379\r\n" +
				"# Modules\r\nmodule:name=search,ver=20812,api=1\r\nmodule:name=search,ver=20812,api=1\r\nmodule:name=evil,ver=1\r\n",
			want: `redis_security_server_info{flavor="redis",mode="standalone",role="replica",version="7.4.1"} 1
				redis_security_replication_source_info{master_host="203.0.113.9",master_port="6379"} 1
				redis_security_module_info{name="evil",version="1"} 1
				redis_security_module_info{name="search",version="20812"} 1`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCollector(syntheticReplies(t, tc.info, nil), collector.Info{})
			reg := c.registry(t)
			names := []string{"redis_security_auth_failures_total", "redis_security_error_replies_total",
				"redis_security_acl_denied_total", "redis_security_replication_source_info", "redis_security_module_info"}
			if strings.Contains(tc.want, "server_info") {
				names = append(names, "redis_security_server_info")
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(exposition(t, reg, tc.want)), names...); err != nil {
				t.Error(err)
			}
			if err := c.err("info"); err != nil {
				t.Errorf("info scraper: %v", err)
			}
		})
	}
}

// Redis accepts any bytes in user names (redis-server 7.0.15 created
// "u\xff" and listed it), and dir and module names come from the server
// too. Such a value once made MustNewConstMetric panic, which failed the
// whole collector: a user with a crafted name blinded the ACL metrics.
func TestInvalidUTF8Labels(t *testing.T) {
	cfg := network("127.0.0.1", "6379", "0", "yes")
	cfg["dir"], cfg["dbfilename"] = "/tmp/\xfe", "dump.rdb"
	info := info70 + "# Modules\r\nmodule:name=m\xff,ver=1\r\n"
	r := syntheticReplies(t, info, cfg, closedDefault,
		"user u\xff on nopass ~* &* +@all",
		`user "u\xff" off #00 resetchannels -@all`) // a valid name that looks like the quoted one
	c := newTestCollector(r, scrapers()...)
	reg := c.registry(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scrapers() {
		if err := c.err(s.Name()); err != nil {
			t.Errorf("%s scraper: %v", s.Name(), err)
		}
	}
	labels := map[string][]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				key := mf.GetName() + "/" + l.GetName()
				labels[key] = append(labels[key], l.GetValue())
			}
		}
	}
	for key, want := range map[string][]string{
		"redis_security_acl_user_nopass/user":             {"\"\\\"u\\\\xff\\\"\"", "\"u\\xff\"", "default"},
		"redis_security_persistence_path_info/dir":        {"\"/tmp/\\xfe\""},
		"redis_security_module_info/name":                 {"\"m\\xff\""},
		"redis_security_persistence_path_info/dbfilename": {"dump.rdb"},
	} {
		got := labels[key]
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

// One unreadable value costs its own metrics, not the collector's others.
func TestConfigMalformedValues(t *testing.T) {
	cfg := network("127.0.0.1", "6379", "0", "maybe")
	for k, v := range map[string]string{
		"timeout":                    "forever",
		"tls-auth-clients":           "sometimes",
		"tls-auth-clients-user":      "email",
		"tls-protocols":              "SSLv3",
		"client-output-buffer-limit": "normal 0 0",
		"enable-debug-command":       "perhaps",
		"enable-module-command":      "local",
		"maxmemory":                  "lots",
		"maxmemory-clients":          "10%",
		"unixsocket":                 "/tmp/r.sock",
		"unixsocketperm":             "999",
		"dir":                        "/var/lib/redis",
		"dbfilename":                 "dump.rdb",
	} {
		cfg[k] = v
	}
	r := syntheticReplies(t, info70, cfg, closedDefault)
	c := newTestCollector(r, collector.Config{})
	reg := c.registry(t)
	want := exposition(t, reg, `
		redis_security_bind_all_interfaces 0
		redis_security_bind_non_loopback 0
		redis_security_plaintext_enabled 1
		redis_security_tls_enabled 0
		redis_security_listener{address="127.0.0.1",port="6379",transport="tcp"} 1
		redis_security_listener{address="/tmp/r.sock",port="",transport="unix"} 1
		redis_security_enable_config{setting="enable-module-command",value="local"} 1
		redis_security_enable_config{setting="enable-module-command",value="no"} 0
		redis_security_enable_config{setting="enable-module-command",value="yes"} 0
		redis_security_persistence_path_info{dbfilename="dump.rdb",dir="/var/lib/redis"} 1
		redis_security_persistence_path_suspicious 0
`)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), allFamilies()...); err != nil {
		t.Error(err)
	}
	err := c.err("config")
	if err == nil {
		t.Fatal("config scraper: no error for malformed values")
	}
	for _, param := range []string{"protected-mode", "timeout", "tls-auth-clients", "tls-auth-clients-user", "tls-protocols",
		"client-output-buffer-limit", "enable-debug-command", "maxmemory-clients", "maxmemory", "unixsocketperm"} {
		if !strings.Contains(err.Error(), "CONFIG "+param+":") {
			t.Errorf("error does not name %s: %v", param, err)
		}
	}
}
