package exporter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// TestPostureScenarios starts a real redis-server per scenario and checks the
// exact posture metrics the exporter reports.
func TestPostureScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		config   string
		user     string
		password string
		want     map[string]float64
	}{
		{
			name:   "open default user on every interface, protected mode off",
			config: "bind * -::*\nprotected-mode no",
			want: map[string]float64{
				"redis_security_up":                                                        1,
				"redis_security_auth_required":                                             0,
				"redis_security_exposed_without_auth":                                      1,
				"redis_security_bind_all_interfaces":                                       1,
				"redis_security_bind_non_loopback":                                         1,
				"redis_security_protected_mode_enabled":                                    0,
				`redis_security_acl_user_nopass{user="default"}`:                           1,
				`redis_security_acl_user_unrestricted{scope="commands",user="default"}`:    1,
				`redis_security_acl_user_unrestricted{scope="keys",user="default"}`:        1,
				`redis_security_acl_user_unrestricted{scope="channels",user="default"}`:    1,
				`redis_security_listener{address="*",port="PORT",transport="tcp"}`:         1,
				`redis_security_listener{address="::*",port="PORT",transport="tcp"}`:       1,
				`redis_security_listener{address="127.0.0.1",port="PORT",transport="tcp"}`: absent,
			},
		},
		{
			name:   "open default user on every interface, protected mode on (7.0 refuses remote clients)",
			config: "bind * -::*\nprotected-mode yes",
			want: map[string]float64{
				"redis_security_auth_required":          0,
				"redis_security_exposed_without_auth":   0,
				"redis_security_bind_all_interfaces":    1,
				"redis_security_protected_mode_enabled": 1,
			},
		},
		{
			name:     "requirepass on loopback",
			config:   "requirepass s3cret-canary-rp\nprotected-mode yes",
			password: "s3cret-canary-rp",
			want: map[string]float64{
				"redis_security_up":                                                        1,
				"redis_security_auth_required":                                             1,
				"redis_security_exposed_without_auth":                                      0,
				"redis_security_bind_all_interfaces":                                       0,
				"redis_security_bind_non_loopback":                                         0,
				`redis_security_acl_user_nopass{user="default"}`:                           0,
				`redis_security_listener{address="127.0.0.1",port="PORT",transport="tcp"}`: 1,
			},
		},
		{
			name: "ACL users",
			config: "user default off\n" +
				"user admin on >admin-pw ~* &* +@all\n" +
				"user alice on >alice-pw ~app:* resetchannels -@all +get +set\n" +
				"user bob on nopass ~* &* +@all -@dangerous\n" +
				"user carol off >carol-pw ~* +@all\n" +
				"user sel on >sel-pw resetchannels -@all (~sel:* &* +@all)",
			user: "admin", password: "admin-pw",
			want: map[string]float64{
				"redis_security_auth_required":                                        1,
				`redis_security_acl_users{enabled="true"}`:                            4,
				`redis_security_acl_users{enabled="false"}`:                           2,
				`redis_security_acl_user_enabled{user="carol"}`:                       0,
				`redis_security_acl_user_enabled{user="default"}`:                     0,
				`redis_security_acl_user_nopass{user="bob"}`:                          1,
				`redis_security_acl_user_nopass{user="alice"}`:                        0,
				`redis_security_acl_user_unrestricted{scope="commands",user="bob"}`:   0,
				`redis_security_acl_user_unrestricted{scope="keys",user="bob"}`:       1,
				`redis_security_acl_user_unrestricted{scope="commands",user="alice"}`: 0,
				`redis_security_acl_user_unrestricted{scope="keys",user="alice"}`:     0,
				`redis_security_acl_user_unrestricted{scope="channels",user="alice"}`: 0,
				`redis_security_acl_user_unrestricted{scope="commands",user="carol"}`: 1,
				`redis_security_acl_user_unrestricted{scope="commands",user="sel"}`:   1,
				`redis_security_acl_user_unrestricted{scope="keys",user="sel"}`:       0,
				`redis_security_acl_user_unrestricted{scope="channels",user="sel"}`:   1,
			},
		},
		{
			name: "hardened TLS-less limits, unix socket 770, explicit gates",
			config: "unixsocket UNIXSOCKET\nunixsocketperm 770\ntimeout 300\ntcp-keepalive 60\nmaxmemory 100mb\n" +
				"maxmemory-clients 10%\nmaxclients 500\nclient-output-buffer-limit normal 64mb 32mb 30\n" +
				"client-query-buffer-limit 16mb\nproto-max-bulk-len 64mb\nenable-debug-command local\n" +
				"enable-module-command no\nenable-protected-configs no",
			want: map[string]float64{
				"redis_security_unixsocket_permissions":                                         0o770,
				"redis_security_unixsocket_world_accessible":                                    0,
				`redis_security_listener{address="UNIXSOCKET",port="",transport="unix"}`:        1,
				"redis_security_idle_timeout_seconds":                                           300,
				"redis_security_tcp_keepalive_seconds":                                          60,
				"redis_security_maxmemory_bytes":                                                100 << 20,
				"redis_security_maxmemory_clients_bytes":                                        float64(100<<20) / 10,
				"redis_security_maxclients":                                                     500,
				`redis_security_client_output_buffer_limit_bytes{class="normal",limit="hard"}`:  64 << 20,
				`redis_security_client_output_buffer_limit_bytes{class="normal",limit="soft"}`:  32 << 20,
				`redis_security_client_output_buffer_limit_soft_seconds{class="normal"}`:        30,
				`redis_security_client_output_buffer_limit_bytes{class="replica",limit="hard"}`: 256 << 20,
				"redis_security_client_query_buffer_limit_bytes":                                16 << 20,
				"redis_security_proto_max_bulk_len_bytes":                                       64 << 20,
				`redis_security_enable_config{setting="enable-debug-command",value="local"}`:    1,
				`redis_security_enable_config{setting="enable-debug-command",value="yes"}`:      0,
				`redis_security_enable_config{setting="enable-module-command",value="no"}`:      1,
				`redis_security_enable_config{setting="enable-protected-configs",value="no"}`:   1,
				"redis_security_tls_enabled":                                                    0,
				"redis_security_plaintext_enabled":                                              1,
				`redis_security_tls_protocol_enabled{protocol="TLSv1.2"}`:                       1,
				`redis_security_tls_protocol_enabled{protocol="TLSv1"}`:                         0,
			},
		},
		{
			name:   "world-writable unix socket",
			config: "unixsocket UNIXSOCKET\nunixsocketperm 777",
			want: map[string]float64{
				"redis_security_unixsocket_permissions":      0o777,
				"redis_security_unixsocket_world_accessible": 1,
			},
		},
		{
			name:   "unix socket with unixsocketperm 0: the umask decides, world access unknown",
			config: "unixsocket UNIXSOCKET",
			want: map[string]float64{
				"redis_security_unixsocket_permissions":      0,
				"redis_security_unixsocket_world_accessible": absent,
			},
		},
		{
			name:   "weak TLS protocols configured (no TLS port)",
			config: "TLSCONFIG\ntls-protocols \"TLSv1 TLSv1.1\"\ntls-auth-clients optional\ntls-replication yes",
			want: map[string]float64{
				`redis_security_tls_protocol_enabled{protocol="TLSv1"}`:   1,
				`redis_security_tls_protocol_enabled{protocol="TLSv1.1"}`: 1,
				`redis_security_tls_protocol_enabled{protocol="TLSv1.2"}`: 0,
				`redis_security_tls_client_auth{mode="optional"}`:         1,
				`redis_security_tls_client_auth{mode="yes"}`:              0,
				"redis_security_tls_replication_enabled":                  1,
				"redis_security_tls_cluster_enabled":                      0,
			},
		},
		{
			name:   "suspicious persistence path",
			config: "dir SSHDIR\ndbfilename authorized_keys",
			want: map[string]float64{
				`redis_security_persistence_path_info{dbfilename="authorized_keys",dir="SSHDIR"}`: 1,
				"redis_security_persistence_path_suspicious":                                      1,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			sock := filepath.Join(tmp, "redis.sock")
			sshDir := filepath.Join(tmp, "home", ".ssh")
			if err := os.MkdirAll(sshDir, 0o700); err != nil {
				t.Fatal(err)
			}
			tlsFiles := redistest.GenerateTLS(t, tmp, 24*time.Hour)
			conf := replace(tc.config, map[string]string{"UNIXSOCKET": sock, "SSHDIR": sshDir, "TLSCONFIG": tlsFiles.ServerConfig()})
			srv := redistest.Start(t, conf)
			tg := newTarget(t, targetOpts{addr: srv.Addr(), user: tc.user, password: tc.password})
			got := scrape(t, tg, 5*time.Second)
			want := map[string]float64{}
			for k, v := range tc.want {
				want[replace(k, map[string]string{"PORT": strconv.Itoa(srv.Port), "UNIXSOCKET": sock, "SSHDIR": sshDir})] = v
			}
			want["redis_security_up"] = 1
			for _, c := range []string{"info", "config", "acl"} {
				want[fmt.Sprintf("redis_security_scrape_collector_success{collector=%q}", c)] = 1
			}
			want[serverInfo(t, srv, "master")] = 1
			expect(t, got, want)
		})
	}
}

func replace(s string, m map[string]string) string {
	for k, v := range m {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// serverInfo is the redis_security_server_info series the server should
// have, from its own INFO (Valkey: flavor valkey and valkey_version).
func serverInfo(t *testing.T, srv *redistest.Server, role string) string {
	t.Helper()
	conf, _ := os.ReadFile(srv.ConfigFile)
	user, pass := "", ""
	if strings.Contains(string(conf), "user default off") {
		user, pass = "admin", "admin-pw"
	} else if i := strings.Index(string(conf), "requirepass "); i >= 0 {
		pass = strings.Fields(string(conf)[i:])[1]
	}
	id := srv.Identity(user, pass)
	return `redis_security_server_info{flavor="` + string(id.Flavor) + `",mode="standalone",role="` + role + `",version="` + id.Version.String() + `"}`
}
