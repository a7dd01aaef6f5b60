package collector_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-security/redis_security_exporter/collector"
)

// config62 answers the one-parameter CONFIG GET calls made to Redis 6.2,
// which refuses several parameters per call (its config_get_security.resp is
// that error). Only bind was recorded on its own (config_get_bind.resp); the
// other values are written here by hand:
//   - port: tcp_port of the same server's INFO;
//   - tls-*: what CONFIG GET tls-* returned on the same server (the design
//     samples' config_get_tls_glob.resp, not copied: it holds the *-pass
//     parameters);
//   - the rest: the scenario's config file, as every other version recorded.
//
// A parameter missing here gets an empty array, as from a server without it:
// enable-* and maxmemory-clients do not exist before 7.0, and
// client-query-buffer-limit, proto-max-bulk-len, tcp-keepalive were recorded
// for no version (so their metrics are absent everywhere).
var config62 = map[string]string{
	"port":                       "24292",
	"protected-mode":             "yes",
	"tls-port":                   "0",
	"tls-auth-clients":           "yes",
	"tls-protocols":              "",
	"tls-replication":            "no",
	"tls-cluster":                "no",
	"unixsocket":                 "",
	"unixsocketperm":             "0",
	"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
	"timeout":                    "0",
	"maxmemory":                  "0",
	"dir":                        "/var/lib/redis",
	"dbfilename":                 "dump.rdb",
}

// sampleResults answers every call of a plan from the recorded replies of
// version, as go-redis would hand them to NewReplies.
func sampleResults(tb testing.TB, version string, calls []collector.Call) []collector.Result {
	tb.Helper()
	var out []collector.Result
	for _, c := range calls {
		switch c.Name {
		case "info":
			out = append(out, readSample(tb, version, "info_all"))
		case "acl|list":
			out = append(out, readSample(tb, version, "acl_list"))
		case "acl|log":
			out = append(out, readSample(tb, version, "acl_log"))
		case "config|get":
			if version == "redis-6.2" {
				if len(c.Args) != 3 {
					tb.Fatalf("6.2 plan sends several parameters per CONFIG GET: %v", c.Args)
				}
				name := c.Args[2].(string)
				switch v, ok := config62[name]; {
				case name == "bind":
					out = append(out, readSample(tb, version, "config_get_bind"))
				case ok:
					out = append(out, collector.Result{Value: []any{name, v}})
				default:
					out = append(out, collector.Result{Value: []any{}})
				}
				continue
			}
			// The multi-parameter recording did not ask for bind, which
			// was recorded separately from the same server: one reply
			// with both is what the plan's single CONFIG GET would get.
			sec := readSample(tb, version, "config_get_security")
			bind := readSample(tb, version, "config_get_bind")
			all := append(append([]any{}, sec.Value.([]any)...), bind.Value.([]any)...)
			// Valkey 8.1+'s COMMANDLOG settings were recorded on their
			// own too.
			if slices.Contains(c.Args, any("commandlog-execution-slower-than")) {
				all = append(all, readSample(tb, version, "commandlog_config").Value.([]any)...)
			}
			out = append(out, collector.Result{Value: all})
		case "commandlog|len":
			out = append(out, readSample(tb, version, "commandlog_len_"+c.Args[2].(string)))
		case "commandlog|get":
			// Recorded as GET 128 (newest first); the plan asks GET 1.
			if c.Args[2] != "1" {
				tb.Fatalf("COMMANDLOG GET of %v entries: the recordings answer GET 1 only", c.Args[2])
			}
			res := readSample(tb, version, "commandlog_get_"+c.Args[3].(string))
			if entries := res.Value.([]any); len(entries) > 1 {
				res.Value = entries[:1]
			}
			out = append(out, res)
		default:
			tb.Fatalf("no sample for call %v", c.Args)
		}
	}
	return out
}

// sampleReplies runs the exporter's plan against the samples of version.
func sampleReplies(tb testing.TB, version string) (*collector.Plan, *collector.Replies) {
	tb.Helper()
	p := planFor(tb, readSample(tb, version, "info_all"))
	calls := p.Calls()
	r, err := collector.NewReplies(p, calls, sampleResults(tb, version, calls))
	if err != nil {
		tb.Fatal(err)
	}
	return p, r
}

// familyTypes lists every family the info, config and acl scrapers can emit,
// with its type. Comparisons cover all of them, so a metric that should be
// omitted (its source does not exist on that version) fails the test when
// it appears.
var familyTypes = map[string]string{
	"redis_security_server_info":                              "gauge",
	"redis_security_auth_failures_total":                      "counter",
	"redis_security_acl_denied_total":                         "counter",
	"redis_security_error_replies_total":                      "counter",
	"redis_security_rejected_connections_total":               "counter",
	"redis_security_connections_received_total":               "counter",
	"redis_security_connected_clients":                        "gauge",
	"redis_security_maxclients":                               "gauge",
	"redis_security_client_recent_max_buffer_bytes":           "gauge",
	"redis_security_client_buffer_limit_disconnections_total": "counter",
	"redis_security_evicted_clients_total":                    "counter",
	"redis_security_module_info":                              "gauge",
	"redis_security_replication_source_info":                  "gauge",
	"redis_security_listener":                                 "gauge",
	"redis_security_protected_mode_enabled":                   "gauge",
	"redis_security_bind_all_interfaces":                      "gauge",
	"redis_security_bind_non_loopback":                        "gauge",
	"redis_security_unixsocket_permissions":                   "gauge",
	"redis_security_unixsocket_world_accessible":              "gauge",
	"redis_security_tls_enabled":                              "gauge",
	"redis_security_plaintext_enabled":                        "gauge",
	"redis_security_tls_client_auth":                          "gauge",
	"redis_security_tls_client_certificate_user_field":        "gauge",
	"redis_security_tls_protocol_enabled":                     "gauge",
	"redis_security_tls_replication_enabled":                  "gauge",
	"redis_security_tls_cluster_enabled":                      "gauge",
	"redis_security_client_output_buffer_limit_bytes":         "gauge",
	"redis_security_client_output_buffer_limit_soft_seconds":  "gauge",
	"redis_security_client_query_buffer_limit_bytes":          "gauge",
	"redis_security_proto_max_bulk_len_bytes":                 "gauge",
	"redis_security_idle_timeout_seconds":                     "gauge",
	"redis_security_tcp_keepalive_seconds":                    "gauge",
	"redis_security_maxmemory_bytes":                          "gauge",
	"redis_security_maxmemory_clients_bytes":                  "gauge",
	"redis_security_enable_config":                            "gauge",
	"redis_security_persistence_path_info":                    "gauge",
	"redis_security_persistence_path_suspicious":              "gauge",
	"redis_security_auth_required":                            "gauge",
	"redis_security_acl_users":                                "gauge",
	"redis_security_acl_user_enabled":                         "gauge",
	"redis_security_acl_user_nopass":                          "gauge",
	"redis_security_acl_user_unrestricted":                    "gauge",
	"redis_security_exposed_without_auth":                     "gauge",
	"redis_security_acl_user_weak_password":                   "gauge",
	"redis_security_vulnerability":                            "gauge",
	"redis_security_known_vulnerabilities":                    "gauge",
	"redis_security_version_end_of_life":                      "gauge",
	"redis_security_replica_read_only":                        "gauge",
	"redis_security_acl_log_max_length":                       "gauge",
	"redis_security_acl_user_shared_password":                 "gauge",
	"redis_security_acl_log_events_total":                     "counter",
	"redis_security_acl_log_entries":                          "gauge",
	"redis_security_acl_log_last_event_timestamp_seconds":     "gauge",
	"redis_security_acl_log_lost_events_total":                "counter",
	"redis_security_acl_log_source_events":                    "gauge",
	"redis_security_commandlog_entries":                       "gauge",
	"redis_security_commandlog_events_total":                  "counter",
	"redis_security_commandlog_last_event_timestamp_seconds":  "gauge",
	"redis_security_commandlog_max_length":                    "gauge",
	"redis_security_commandlog_enabled":                       "gauge",
	"redis_security_commandlog_slow_threshold_seconds":        "gauge",
	"redis_security_commandlog_large_threshold_bytes":         "gauge",
}

// nondeterministic families are checked on their own: before 7.2 the last
// event time is derived from the scrape time minus age-seconds. The CVE
// families are checked by TestSampleVulnerabilities (the exact CVE sets are
// written out in the vuln package's tests).
var nondeterministic = map[string]bool{
	"redis_security_acl_log_last_event_timestamp_seconds":    true,
	"redis_security_commandlog_last_event_timestamp_seconds": true,
	"redis_security_vulnerability":                           true,
	"redis_security_known_vulnerabilities":                   true,
	"redis_security_version_end_of_life":                     true,
}

func allFamilies() []string {
	names := make([]string, 0, len(familyTypes))
	for n := range familyTypes {
		if !nondeterministic[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// A scraper that gains a metric must gain an expectation here too.
func TestFamilyTypesComplete(t *testing.T) {
	ch := make(chan *prometheus.Desc, 100)
	for _, s := range scrapers() {
		s.Describe(ch)
	}
	close(ch)
	described := map[string]bool{}
	for d := range ch {
		m := fqNameRE.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		described[m[1]] = true
		if _, ok := familyTypes[m[1]]; !ok {
			t.Errorf("%s is not in familyTypes", m[1])
		}
	}
	for n := range familyTypes {
		if !described[n] {
			t.Errorf("familyTypes lists %s, which no scraper describes", n)
		}
	}
}

// exposition turns expected sample lines ("name{labels} value") into the
// text format. TYPE comes from familyTypes; HELP is copied from what reg
// gathers, because the tests are about values, not wording.
func exposition(tb testing.TB, reg prometheus.Gatherer, samples string) string {
	tb.Helper()
	mfs, _ := reg.Gather() // errors surface in GatherAndCompare
	help := map[string]string{}
	for _, mf := range mfs {
		help[mf.GetName()] = mf.GetHelp()
	}
	var order []string
	lines := map[string][]string{}
	for _, l := range strings.Split(samples, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		if _, ok := familyTypes[name]; !ok {
			tb.Fatalf("expected sample of unknown family %s", name)
		}
		if _, seen := lines[name]; !seen {
			order = append(order, name)
		}
		lines[name] = append(lines[name], l)
	}
	var b strings.Builder
	for _, name := range order {
		h, ok := help[name]
		if !ok {
			h = "(not gathered)"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, h, name, familyTypes[name])
		for _, l := range lines[name] {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Expected samples shared by several versions. Every sample server ran the
// same scenario (see the samples README): bind 127.0.0.1 -::1, users alice
// (-@all +get +set on app:*), bob (nopass, +@all -@dangerous), carol (off),
// default and ops (+@all, same password); 4 failed AUTHs, 1 NOAUTH, 2 NOPERM.
const (
	aclUsers = `
		redis_security_acl_user_shared_password{user="alice"} 0
		redis_security_acl_user_shared_password{user="bob"} 0
		redis_security_acl_user_shared_password{user="carol"} 0
		redis_security_acl_user_shared_password{user="default"} 1
		redis_security_acl_user_shared_password{user="ops"} 1
		redis_security_acl_user_enabled{user="alice"} 1
		redis_security_acl_user_enabled{user="bob"} 1
		redis_security_acl_user_enabled{user="carol"} 0
		redis_security_acl_user_enabled{user="default"} 1
		redis_security_acl_user_enabled{user="ops"} 1
		redis_security_acl_user_nopass{user="alice"} 0
		redis_security_acl_user_nopass{user="bob"} 1
		redis_security_acl_user_nopass{user="carol"} 0
		redis_security_acl_user_nopass{user="default"} 0
		redis_security_acl_user_nopass{user="ops"} 0
		redis_security_acl_user_unrestricted{scope="commands",user="alice"} 0
		redis_security_acl_user_unrestricted{scope="commands",user="bob"} 0
		redis_security_acl_user_unrestricted{scope="commands",user="carol"} 1
		redis_security_acl_user_unrestricted{scope="commands",user="default"} 1
		redis_security_acl_user_unrestricted{scope="commands",user="ops"} 1
		redis_security_acl_user_unrestricted{scope="keys",user="alice"} 0
		redis_security_acl_user_unrestricted{scope="keys",user="bob"} 1
		redis_security_acl_user_unrestricted{scope="keys",user="carol"} 1
		redis_security_acl_user_unrestricted{scope="keys",user="default"} 1
		redis_security_acl_user_unrestricted{scope="keys",user="ops"} 1
		redis_security_acl_user_unrestricted{scope="channels",user="default"} 1
		redis_security_acl_user_unrestricted{scope="channels",user="ops"} 1
		redis_security_acl_users{enabled="false"} 1
		redis_security_acl_users{enabled="true"} 4
		redis_security_auth_required 1
		redis_security_exposed_without_auth 0
`
	// 6.2's acl-pubsub-default is allchannels: every user got &*.
	aclChannels62 = `
		redis_security_acl_user_unrestricted{scope="channels",user="alice"} 1
		redis_security_acl_user_unrestricted{scope="channels",user="bob"} 1
		redis_security_acl_user_unrestricted{scope="channels",user="carol"} 1
`
	// 7.0 made resetchannels the default.
	aclChannels70 = `
		redis_security_acl_user_unrestricted{scope="channels",user="alice"} 0
		redis_security_acl_user_unrestricted{scope="channels",user="bob"} 0
		redis_security_acl_user_unrestricted{scope="channels",user="carol"} 0
`
	infoCommon = `
		redis_security_auth_failures_total 4
		redis_security_error_replies_total{error="NOAUTH"} 1
		redis_security_error_replies_total{error="NOPERM"} 2
		redis_security_error_replies_total{error="WRONGPASS"} 4
		redis_security_rejected_connections_total 0
		redis_security_connections_received_total 2
		redis_security_connected_clients 2
		redis_security_maxclients 10000
		redis_security_client_recent_max_buffer_bytes{buffer="input"} 0
		redis_security_client_recent_max_buffer_bytes{buffer="output"} 0
`
	// INFO acl_access_denied_* (7.2+).
	aclDenied = `
		redis_security_acl_denied_total{reason="auth"} 4
		redis_security_acl_denied_total{reason="channel"} 0
		redis_security_acl_denied_total{reason="command"} 1
		redis_security_acl_denied_total{reason="key"} 1
`
	evicted = `
		redis_security_evicted_clients_total 0
`
	// INFO client_*_buffer_limit_disconnections (7.4+, Valkey 8).
	bufferDisconnections = `
		redis_security_client_buffer_limit_disconnections_total{buffer="output"} 0
		redis_security_client_buffer_limit_disconnections_total{buffer="query"} 0
`
	// The CONFIG values every version shares. tls-replication,
	// tls-cluster, client-query-buffer-limit, proto-max-bulk-len,
	// tcp-keepalive and maxmemory-clients were not recorded: absent. No
	// unixsocket: no unixsocket metrics.
	configCommon = `
		redis_security_protected_mode_enabled 1
		redis_security_bind_all_interfaces 0
		redis_security_bind_non_loopback 0
		redis_security_plaintext_enabled 1
		redis_security_tls_enabled 0
		redis_security_tls_client_auth{mode="no"} 0
		redis_security_tls_client_auth{mode="optional"} 0
		redis_security_tls_client_auth{mode="yes"} 1
		redis_security_tls_protocol_enabled{protocol="TLSv1"} 0
		redis_security_tls_protocol_enabled{protocol="TLSv1.1"} 0
		redis_security_tls_protocol_enabled{protocol="TLSv1.2"} 1
		redis_security_tls_protocol_enabled{protocol="TLSv1.3"} 1
		redis_security_client_output_buffer_limit_bytes{class="normal",limit="hard"} 0
		redis_security_client_output_buffer_limit_bytes{class="normal",limit="soft"} 0
		redis_security_client_output_buffer_limit_bytes{class="pubsub",limit="hard"} 3.3554432e+07
		redis_security_client_output_buffer_limit_bytes{class="pubsub",limit="soft"} 8.388608e+06
		redis_security_client_output_buffer_limit_bytes{class="replica",limit="hard"} 2.68435456e+08
		redis_security_client_output_buffer_limit_bytes{class="replica",limit="soft"} 6.7108864e+07
		redis_security_client_output_buffer_limit_soft_seconds{class="normal"} 0
		redis_security_client_output_buffer_limit_soft_seconds{class="pubsub"} 60
		redis_security_client_output_buffer_limit_soft_seconds{class="replica"} 60
		redis_security_idle_timeout_seconds 0
		redis_security_maxmemory_bytes 0
		redis_security_persistence_path_info{dbfilename="dump.rdb",dir="/var/lib/redis"} 1
		redis_security_persistence_path_suspicious 0
`
	// 7.0+: the gates were recorded as "no".
	enableNo = `
		redis_security_enable_config{setting="enable-debug-command",value="local"} 0
		redis_security_enable_config{setting="enable-debug-command",value="no"} 1
		redis_security_enable_config{setting="enable-debug-command",value="yes"} 0
		redis_security_enable_config{setting="enable-module-command",value="local"} 0
		redis_security_enable_config{setting="enable-module-command",value="no"} 1
		redis_security_enable_config{setting="enable-module-command",value="yes"} 0
		redis_security_enable_config{setting="enable-protected-configs",value="local"} 0
		redis_security_enable_config{setting="enable-protected-configs",value="no"} 1
		redis_security_enable_config{setting="enable-protected-configs",value="yes"} 0
`
	// 6.x has no gates and behaves as "yes".
	enableYes = `
		redis_security_enable_config{setting="enable-debug-command",value="local"} 0
		redis_security_enable_config{setting="enable-debug-command",value="no"} 0
		redis_security_enable_config{setting="enable-debug-command",value="yes"} 1
		redis_security_enable_config{setting="enable-module-command",value="local"} 0
		redis_security_enable_config{setting="enable-module-command",value="no"} 0
		redis_security_enable_config{setting="enable-module-command",value="yes"} 1
		redis_security_enable_config{setting="enable-protected-configs",value="local"} 0
		redis_security_enable_config{setting="enable-protected-configs",value="no"} 0
		redis_security_enable_config{setting="enable-protected-configs",value="yes"} 1
`
)

// listeners are the "bind 127.0.0.1 -::1" endpoints on port, without the
// '-' (from INFO on 7.2+, from CONFIG before).
func listeners(port string) string {
	return fmt.Sprintf(`
		redis_security_listener{address="127.0.0.1",port=%[1]q,transport="tcp"} 1
		redis_security_listener{address="::1",port=%[1]q,transport="tcp"} 1
`, port)
}

func serverInfo(flavor, version string) string {
	return fmt.Sprintf(`
		redis_security_server_info{flavor=%q,mode="standalone",role="master",version=%q} 1
`, flavor, version)
}

// The recorded ACL LOG: 3 failed AUTH as "nobody" (not a user), 1 as alice,
// then alice's key and command denials, all from 127.0.0.1.
const aclLog = `
		redis_security_acl_log_events_total{reason="auth",username="unknown"} 3
		redis_security_acl_log_events_total{reason="auth",username="alice"} 1
		redis_security_acl_log_events_total{reason="key",username="alice"} 1
		redis_security_acl_log_events_total{reason="command",username="alice"} 1
		redis_security_acl_log_entries{reason="auth"} 2
		redis_security_acl_log_entries{reason="command"} 1
		redis_security_acl_log_entries{reason="key"} 1
		redis_security_acl_log_entries{reason="channel"} 0
		redis_security_acl_log_source_events{reason="auth",source="127.0.0.1"} 4
		redis_security_acl_log_source_events{reason="command",source="127.0.0.1"} 1
		redis_security_acl_log_source_events{reason="key",source="127.0.0.1"} 1
`

// aclLogMaxLength: recorded in the multi-parameter CONFIG GET (7.0+); the
// hand-written 6.2 replies leave acllog-max-len out.
const aclLogMaxLength = `
		redis_security_acl_log_max_length 128
`

// aclLogLost: 7.2+ entries have ids, and the recorded ones (0-3) have no gap.
const aclLogLost = `
		redis_security_acl_log_lost_events_total 0
`

var sampleExpectations = map[string]string{
	"redis-6.2": serverInfo("redis", "6.2.16") + infoCommon + aclUsers + aclChannels62 + configCommon + enableYes +
		listeners("24292") + `
		redis_security_tls_replication_enabled 0
		redis_security_tls_cluster_enabled 0
` + aclLog,
	"redis-7.0":  serverInfo("redis", "7.0.15") + infoCommon + evicted + aclUsers + aclChannels70 + configCommon + enableNo + listeners("24472") + aclLogMaxLength + aclLog,
	"redis-7.2":  serverInfo("redis", "7.2.6") + infoCommon + evicted + aclDenied + aclUsers + aclChannels70 + configCommon + enableNo + listeners("24337") + aclLogMaxLength + aclLog + aclLogLost,
	"redis-7.4":  serverInfo("redis", "7.4.1") + infoCommon + evicted + aclDenied + bufferDisconnections + aclUsers + aclChannels70 + configCommon + enableNo + listeners("24382") + aclLogMaxLength + aclLog + aclLogLost,
	"valkey-8.0": serverInfo("valkey", "8.0.1") + infoCommon + evicted + aclDenied + bufferDisconnections + aclUsers + aclChannels70 + configCommon + enableNo + listeners("24636") + aclLogMaxLength + aclLog + aclLogLost,
	"redis-8.0":  serverInfo("redis", "8.0.6") + infoCommon + evicted + aclDenied + bufferDisconnections + aclUsers + aclChannels70 + configCommon + enableNo + listeners("39029") + aclLogMaxLength + aclLog + aclLogLost + moduleVectorset,
	"valkey-8.1": serverInfo("valkey", "8.1.1") + infoCommon + evicted + aclDenied + bufferDisconnections + aclUsers + aclChannels70 + configCommon + enableNo + listeners("36039") + aclLogMaxLength + aclLog + aclLogLost + commandLog,
	"valkey-9.1": serverInfo("valkey", "9.1.2") + infoCommon + evicted + aclDenied + aclDeniedDB + bufferDisconnections + aclUsers + aclChannels70 + configCommon + enableNo + listeners("45833") + aclLogMaxLength + aclLog + aclLogLost + moduleLua + commandLog,
}

// commandLog: the recordings' COMMANDLOG (Valkey 8.1+) after one large
// request, one large reply and two slow commands (a CONFIG SET and an
// AUTH), the slow log then switched off (threshold -1) and 1,024-byte
// request and reply thresholds; the timestamps are the recordings'.
const commandLog = `
		redis_security_commandlog_entries{type="slow"} 2
		redis_security_commandlog_entries{type="large-request"} 1
		redis_security_commandlog_entries{type="large-reply"} 1
		redis_security_commandlog_events_total{type="slow"} 2
		redis_security_commandlog_events_total{type="large-request"} 1
		redis_security_commandlog_events_total{type="large-reply"} 1
		redis_security_commandlog_max_length{type="slow"} 128
		redis_security_commandlog_max_length{type="large-request"} 128
		redis_security_commandlog_max_length{type="large-reply"} 128
		redis_security_commandlog_enabled{type="slow"} 0
		redis_security_commandlog_enabled{type="large-request"} 1
		redis_security_commandlog_enabled{type="large-reply"} 1
		redis_security_commandlog_large_threshold_bytes{type="large-request"} 1024
		redis_security_commandlog_large_threshold_bytes{type="large-reply"} 1024
`

// Redis 8 lists its built-in vector sets as a module, Valkey 9 its Lua
// engine: no module was loaded.
const moduleVectorset = `
		redis_security_module_info{name="vectorset",version="1"} 1
`
const moduleLua = `
		redis_security_module_info{name="lua",version="1"} 1
`

// aclDeniedDB: Valkey 9 counts and logs denials by its per-database rules,
// and counts those of
// client certificates (tls-auth-clients-user).
const aclDeniedDB = `
		redis_security_acl_denied_total{reason="database"} 0
		redis_security_acl_log_entries{reason="database"} 0
		redis_security_tls_client_certificate_user_field{field="off"} 1
		redis_security_tls_client_certificate_user_field{field="CN"} 0
		redis_security_tls_client_certificate_user_field{field="URI"} 0
		redis_security_acl_denied_total{reason="tls_cert"} 0
`

func TestSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			p, r := sampleReplies(t, v)

			// The plan fits the version: 6.2 gets one CONFIG GET per
			// parameter, 7.0+ and Valkey a single one.
			var configCalls int
			for _, c := range p.Calls() {
				if c.Name == "config|get" {
					configCalls++
				}
			}
			if wantMany := v == "redis-6.2"; (configCalls > 1) != wantMany || configCalls == 0 {
				t.Errorf("%d CONFIG GET calls", configCalls)
			}

			c := newTestCollector(r, scrapers()...)
			reg := c.registry(t)
			want := exposition(t, reg, sampleExpectations[v])
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), allFamilies()...); err != nil {
				t.Error(err)
			}
			for _, s := range scrapers() {
				if err := c.err(s.Name()); err != nil {
					t.Errorf("%s scraper: %v", s.Name(), err)
				}
			}
			problems, err := testutil.GatherAndLint(reg)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
			if denied := deniedCommands(r); len(denied) != 0 {
				t.Errorf("denied commands %v", denied)
			}
		})
	}
}

func deniedCommands(r *collector.Replies) []string {
	var out []string
	for _, d := range r.DeniedCommands() {
		if d.Denied {
			out = append(out, d.Command)
		}
	}
	return out
}

// The exporter's user may lack CONFIG: the config collector fails and says
// why, the others still report what they can, and the denial is visible.
func TestConfigDenied(t *testing.T) {
	const noperm = "NOPERM User exporter has no permissions to run the 'config|get' command"
	for _, tc := range []struct {
		version string
		want    string // expected samples of the families that remain
	}{
		// INFO still lists the listeners on 7.2+.
		{"redis-7.4", serverInfo("redis", "7.4.1") + infoCommon + evicted + aclDenied + bufferDisconnections +
			aclUsers + aclChannels70 + listeners("24382") + aclLog + aclLogLost},
		// Before, they come from CONFIG: gone with it. 6.x has no
		// enable-* gates whatever CONFIG says, so enable_config stays.
		{"redis-6.2", serverInfo("redis", "6.2.16") + infoCommon + aclUsers + aclChannels62 + enableYes + aclLog},
	} {
		t.Run(tc.version, func(t *testing.T) {
			p := planFor(t, readSample(t, tc.version, "info_all"))
			calls := p.Calls()
			results := sampleResults(t, tc.version, calls)
			for i, c := range calls {
				if c.Name == "config|get" {
					results[i] = collector.Result{Err: collector.ServerError(noperm)}
				}
			}
			r, err := collector.NewReplies(p, calls, results)
			if err != nil {
				t.Fatal(err)
			}

			c := newTestCollector(r, scrapers()...)
			reg := c.registry(t)
			// exposed_without_auth needs CONFIG, so it is omitted
			// rather than guessed.
			want := strings.Replace(tc.want, "redis_security_exposed_without_auth 0\n", "", 1)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(exposition(t, reg, want)), allFamilies()...); err != nil {
				t.Error(err)
			}

			if err := c.err("info"); err != nil {
				t.Errorf("info scraper: %v", err)
			}
			if err := c.err("config"); !collector.IsDenied(err) {
				t.Errorf("config scraper error = %v, want the NOPERM reply", err)
			}
			if err := c.err("acl"); !collector.IsDenied(err) {
				t.Errorf("acl scraper error = %v, want the NOPERM reply (exposed_without_auth)", err)
			}
			if got := deniedCommands(r); !slices.Equal(got, []string{"config|get"}) {
				t.Errorf("denied commands = %v, want [config|get]", got)
			}
		})
	}
}

// TestSampleVulnerabilities: the recorded versions' CVE counts and end of
// life, as the vuln package's hand-written sets give them.
func TestSampleVulnerabilities(t *testing.T) {
	for _, tc := range []struct {
		version string
		total   int
		eol     string // "" = omitted
	}{
		// Each set of the vuln package's sampleWant: the Redis ones gained
		// CVE-2026-66373 and -81934, Valkey 8.0.1 -130822 and -136156.
		{"redis-6.2", 14, "0"},
		{"redis-7.0", 19, "1"},
		{"redis-7.2", 16, "0"},
		{"redis-7.4", 16, "0"},
		{"valkey-8.0", 18, "0"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			_, r := sampleReplies(t, tc.version)
			c := newTestCollector(r, collector.Info{})
			mfs, err := c.registry(t).Gather()
			if err != nil {
				t.Fatal(err)
			}
			var total, cves float64
			eol := ""
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					switch mf.GetName() {
					case "redis_security_known_vulnerabilities":
						total += m.GetGauge().GetValue()
					case "redis_security_vulnerability":
						cves++
					case "redis_security_version_end_of_life":
						eol = fmt.Sprint(m.GetGauge().GetValue())
					}
				}
			}
			if int(total) != tc.total || int(cves) != tc.total {
				t.Errorf("known_vulnerabilities sum %v, vulnerability series %v, want %d", total, cves, tc.total)
			}
			if eol != tc.eol {
				t.Errorf("version_end_of_life = %q, want %q", eol, tc.eol)
			}
		})
	}
}
