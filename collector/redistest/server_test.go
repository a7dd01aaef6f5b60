package redistest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func TestStartAndRestart(t *testing.T) {
	s := Start(t, "")
	if got := s.Do("", "", "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
	before := s.Do("", "", "INFO", "server").(string)
	s = s.Restart()
	after := s.Do("", "", "INFO", "server").(string)
	if before == after {
		t.Fatal("INFO unchanged after restart: run_id should differ")
	}
}

func TestParseRESP2(t *testing.T) {
	res, err := ParseRESP2([]byte("*3\r\n$3\r\nfoo\r\n:5\r\n$-1\r\n"))
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	arr := res.Value.([]any)
	if arr[0] != "foo" || arr[1] != int64(5) || arr[2] != nil {
		t.Fatalf("got %#v", arr)
	}
	res, _ = ParseRESP2([]byte("-NOPERM no\r\n"))
	if res.Err == nil || res.Err.Error() != "NOPERM no" {
		t.Fatalf("error reply: %#v", res)
	}
	if _, err := ParseRESP2([]byte("$5\r\nab\r\n")); err == nil {
		t.Fatal("short bulk accepted")
	}
}

// TestTLSOnlyServer: a server without a plaintext port starts (readiness
// from its log), reports Port 0, and answers over TLS with the client
// certificate.
func TestTLSOnlyServer(t *testing.T) {
	f := GenerateTLS(t, t.TempDir(), time.Hour)
	s := StartWith(t, Options{TLS: &f, NoPlaintext: true, Config: "tls-auth-clients yes"})
	if s.Port != 0 || s.TLSPort == 0 {
		t.Fatalf("Port %d, TLSPort %d", s.Port, s.TLSPort)
	}
	if got := s.Do("", "", "CONFIG", "GET", "port").([]any); got[1] != "0" {
		t.Fatalf("CONFIG GET port = %v", got)
	}
	tlsPort := s.TLSPort
	s = s.Restart()
	if s.TLSPort != tlsPort || s.Port != 0 {
		t.Fatalf("restart moved the ports: %d, %d", s.Port, s.TLSPort)
	}
	if got := s.Do("", "", "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
	// A raw config with "port 0" is reported as such.
	s2 := StartWith(t, Options{Config: "port 0\nunixsocket " + t.TempDir() + "/r.sock"})
	if s2.Port != 0 {
		t.Fatalf("Port %d for port 0", s2.Port)
	}
}

// TestStartCluster: a 2-master cluster with one replica each comes up ok,
// with the roles StartClusterWith documents.
func TestStartCluster(t *testing.T) {
	start := time.Now()
	nodes := StartClusterWith(t, ClusterOptions{Masters: 2, ReplicasPerMaster: 1})
	t.Logf("cluster up in %v", time.Since(start))
	if len(nodes) != 4 {
		t.Fatalf("%d servers", len(nodes))
	}
	info := nodes[0].Do("", "", "CLUSTER", "INFO").(string)
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:4") {
		t.Fatalf("CLUSTER INFO:\n%s", info)
	}
	for i, want := range []string{"master", "master", "slave", "slave"} {
		role := nodes[i].Do("", "", "ROLE").([]any)[0]
		if role != want {
			t.Errorf("node %d: ROLE %v, want %s", i, role, want)
		}
	}
	repl := nodes[3].Do("", "", "INFO", "replication").(string)
	if !strings.Contains(repl, "master_port:"+strconv.Itoa(nodes[1].Port)) {
		t.Errorf("node 3 replicates the wrong master:\n%s", repl)
	}
}

// TestStartSentinel: a Sentinel started after a master and its replica lists
// both.
func TestStartSentinel(t *testing.T) {
	master := Start(t, "")
	replica := StartReplica(t, master, "")
	start := time.Now()
	s := StartSentinel(t, "mymaster", master, "", replica)
	t.Logf("sentinel ready in %v", time.Since(start))
	m := s.Do("", "", "SENTINEL", "MASTER", "mymaster").([]any)
	if len(m) < 6 || m[5] != strconv.Itoa(master.Port) {
		t.Fatalf("SENTINEL MASTER: %v", m)
	}
	if got := s.Do("", "", "INFO", "server").(string); !strings.Contains(got, "redis_mode:sentinel") && !strings.Contains(got, "server_mode:sentinel") { // Valkey 8: server_mode
		t.Fatal("not a Sentinel")
	}
}

// HasCommandLog, read from the binary's --version, agrees with the
// running server's INFO.
func TestHasCommandLogMatchesServer(t *testing.T) {
	s := Start(t, "")
	id := s.Identity("", "")
	want := id.Flavor == redisinfo.FlavorValkey && id.Version.AtLeast(8, 1)
	if got := HasCommandLog(t, Binary(t)); got != want {
		t.Errorf("HasCommandLog = %v for %v %v", got, id.Flavor, id.Version)
	}
}
