package probe_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/probe"
)

type group struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// discoverServer serves the discovery endpoints of a Prober built from yaml.
func discoverServer(t *testing.T, yaml string) (*probe.Prober, *httptest.Server) {
	t.Helper()
	p, _ := newProber(t, yaml, nil, probe.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/discover/cluster", p.ServeDiscoverCluster)
	mux.HandleFunc("/discover/sentinel", p.ServeDiscoverSentinel)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv
}

func discover(t *testing.T, u string) (int, []group, string) {
	t.Helper()
	code, body := fetch(t, u)
	var groups []group
	if code == 200 {
		if err := json.Unmarshal([]byte(body), &groups); err != nil {
			t.Fatalf("not http_sd JSON: %v\n%s", err, body)
		}
	}
	return code, groups, body
}

func ports(groups []group) []int {
	var out []int
	for _, g := range groups {
		for _, target := range g.Targets {
			i := strings.LastIndex(target, ":")
			n, _ := strconv.Atoi(target[i+1:])
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// TestDiscoverCluster: a real 3-master cluster with a replica each; the
// discovery returns every node with its role and shard, and a narrower
// allowlist leaves out (and counts) the nodes it does not admit.
func TestDiscoverCluster(t *testing.T) {
	t.Parallel()
	servers := redistest.StartClusterWith(t, redistest.ClusterOptions{Masters: 3, ReplicasPerMaster: 1,
		Config: "user exporter on >pw " + collector.LeastPrivilegeRules + " +cluster|shards +cluster|nodes\n"})
	pw := writeFile(t, "pw")
	yaml := fmt.Sprintf(`
modules:
  all:
    username: exporter
    password_file: %s
    allowed_targets: ["127.0.0.1/32"]
  narrow:
    username: exporter
    password_file: %[1]s
    allowed_targets: ["127.0.0.1:%d", "127.0.0.1:%d"]
`, pw, servers[0].Port, servers[3].Port)
	p, srv := discoverServer(t, yaml)

	code, groups, body := discover(t, srv.URL+"/discover/cluster?module=all&target="+servers[4].Addr())
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var want []int
	for _, s := range servers {
		want = append(want, s.Port)
	}
	slices.Sort(want)
	if got := ports(groups); !slices.Equal(got, want) {
		t.Fatalf("discovered ports %v, want %v\n%s", got, want, body)
	}
	roles := map[string]int{}
	shards := map[string]bool{}
	for _, g := range groups {
		roles[g.Labels["__meta_redis_role"]]++
		shards[g.Labels["__meta_redis_cluster_shard"]] = true
		if g.Labels["__param_module"] != "all" || g.Labels["__meta_redis_cluster_node_id"] == "" || g.Labels["__meta_redis_seed"] != "redis://"+servers[4].Addr() {
			t.Errorf("labels %v", g.Labels)
		}
	}
	if roles["master"] != 3 || roles["replica"] != 3 || len(shards) != 3 {
		t.Errorf("roles %v, %d shards; want 3 masters, 3 replicas, 3 shards\n%s", roles, len(shards), body)
	}

	code, groups, body = discover(t, srv.URL+"/discover/cluster?module=narrow&target="+servers[0].Addr())
	if code != 200 || !slices.Equal(ports(groups), sortedPorts(servers[0].Port, servers[3].Port)) {
		t.Fatalf("narrow allowlist: %d %v\n%s", code, ports(groups), body)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var deniedNodes float64
	for _, mf := range mfs {
		if mf.GetName() == "redis_security_exporter_discovery_nodes_denied_total" {
			deniedNodes = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if deniedNodes != 4 {
		t.Errorf("discovery_nodes_denied_total = %v, want 4", deniedNodes)
	}

	// A seed outside the allowlist is refused before any connection.
	if code, _, _ := discover(t, srv.URL+"/discover/cluster?module=narrow&target="+servers[1].Addr()); code != 403 {
		t.Errorf("seed outside the allowlist: %d, want 403", code)
	}
	// A seed that is not a cluster: 502, the reason without the reply.
	plain := redistest.Start(t, "user exporter on >pw "+collector.LeastPrivilegeRules+" +cluster|shards\n")
	code, _, body = discover(t, srv.URL+"/discover/cluster?module=all&target="+plain.Addr())
	if code != http.StatusBadGateway || !strings.Contains(body, "cluster support is disabled") {
		t.Errorf("plain server as seed: %d %s", code, body)
	}
	// The exporter's user without +cluster|shards.
	denied := startServer(t, "admin", "pw")
	code, _, body = discover(t, srv.URL+"/discover/cluster?module=all&target="+denied.Addr())
	if code != http.StatusBadGateway || !strings.Contains(body, "permission denied") {
		t.Errorf("NOPERM seed: %d %s", code, body)
	}
	if got := requests(t, reg, "discover_cluster", "all", "failure"); got != 2 {
		t.Errorf("requests_total{discover_cluster,all,failure} = %v", got)
	}
}

// TestDiscoverSentinel: a real Sentinel monitoring a master with a replica.
func TestDiscoverSentinel(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t, "")
	replica := redistest.StartReplica(t, master, "")
	sentinel := redistest.StartSentinel(t, "cache", master, "", replica)
	yaml := fmt.Sprintf(`
modules:
  all:
    allowed_targets: ["127.0.0.1/32"]
  seedonly:
    allowed_targets: ["127.0.0.1:%d"]
`, sentinel.Port)
	_, srv := discoverServer(t, yaml)

	code, groups, body := discover(t, srv.URL+"/discover/sentinel?module=all&target="+sentinel.Addr())
	if code != 200 || !slices.Equal(ports(groups), sortedPorts(master.Port, replica.Port)) {
		t.Fatalf("%d %v\n%s", code, ports(groups), body)
	}
	for _, g := range groups {
		wantRole := "master"
		if strings.HasSuffix(g.Targets[0], ":"+strconv.Itoa(replica.Port)) {
			wantRole = "replica"
		}
		if g.Labels["__meta_redis_role"] != wantRole || g.Labels["__meta_redis_sentinel_master"] != "cache" || g.Labels["__param_module"] != "all" {
			t.Errorf("%v: labels %v", g.Targets, g.Labels)
		}
	}
	code, groups, body = discover(t, srv.URL+"/discover/sentinel?module=seedonly&target="+sentinel.Addr())
	if code != 200 || len(groups) != 0 {
		t.Errorf("nodes outside the allowlist must be left out: %d\n%s", code, body)
	}
}

func sortedPorts(p ...int) []int {
	slices.Sort(p)
	return p
}

// TestHostileServerInAllowlist: a server at an allowed address that answers
// every command with a header declaring 2^62 elements (go-redis would
// allocate it at once: a makeslice panic that killed the exporter) is a
// target down, a failed discovery, and nothing more.
func TestHostileServerInAllowlist(t *testing.T) {
	t.Parallel()
	p, probeSrv := newProber(t, `modules: {m: {allowed_targets: ["127.0.0.1/32"]}}`, nil, probe.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/discover/cluster", p.ServeDiscoverCluster)
	mux.HandleFunc("/discover/sentinel", p.ServeDiscoverSentinel)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	hostile := redistest.HostileServer(t, "*4611686018427387904\r\n")
	if code, body := fetch(t, probeURL(probeSrv.URL, "m", hostile)); code != 200 || !strings.Contains(body, "redis_security_up 0") {
		t.Errorf("/probe of the hostile server: %d\n%s", code, body)
	}
	for _, kind := range []string{"cluster", "sentinel"} {
		if code, _, body := discover(t, srv.URL+"/discover/"+kind+"?module=m&target="+hostile); code != http.StatusBadGateway {
			t.Errorf("/discover/%s of the hostile seed: %d %s", kind, code, body)
		}
	}
	real := redistest.Start(t, "")
	if code, body := fetch(t, probeURL(probeSrv.URL, "m", real.Addr())); code != 200 || !strings.Contains(body, "redis_security_up 1") {
		t.Errorf("/probe of a real server afterwards: %d\n%s", code, body)
	}
}
