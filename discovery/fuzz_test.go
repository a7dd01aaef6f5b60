package discovery

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// decode turns fuzz bytes into a reply as go-redis hands it over (RESP2);
// ok is false for bytes that are not one.
func decode(b []byte) (any, bool) {
	res, err := redistest.ParseRESP2(b)
	if err != nil || res.Err != nil {
		return nil, false
	}
	return res.Value, true
}

// checkNodes asserts what every parser promises of its result, whatever the
// input: bounded, sorted, and only scrapable addresses and known roles.
func checkNodes(t *testing.T, nodes []Node) {
	t.Helper()
	if len(nodes) > MaxNodes {
		t.Fatalf("%d nodes", len(nodes))
	}
	for _, n := range nodes {
		if n.Host == "" || cleanHost(n.Host) != n.Host {
			t.Fatalf("host %q", n.Host)
		}
		if n.Port < 0 || n.Port > 65535 || n.TLSPort < 0 || n.TLSPort > 65535 || n.Port == 0 && n.TLSPort == 0 {
			t.Fatalf("ports %d, %d", n.Port, n.TLSPort)
		}
		if n.Role != RoleMaster && n.Role != RoleReplica {
			t.Fatalf("role %q", n.Role)
		}
		if n.IP != "" {
			if _, err := netip.ParseAddr(n.IP); err != nil {
				t.Fatalf("IP %q", n.IP)
			}
		}
		if len(n.NodeID) > 3*maxField || len(n.Shard) > 3*maxField || len(n.MasterName) > 3*maxField {
			t.Fatal("field beyond the bound")
		}
	}
	sorted := slices.Clone(nodes)
	sortNodes(sorted)
	if !slices.Equal(sorted, nodes) {
		t.Fatal("not sorted")
	}
}

func FuzzParseClusterShards(f *testing.F) {
	f.Add(redistest.EncodeRESP2(shards70(false)))
	f.Add(redistest.EncodeRESP2(shards70(true)))
	f.Add(redistest.EncodeRESP2(a{a{"slots", a{}, "id", "s1", "nodes", a{
		a{"id", idM0, "port", int64(7000), "tls-port", int64(7001), "ip", "::1", "endpoint", "?", "hostname", "h.example", "role", "master", "health", "fail"},
		a{"id", idR0, "port", "7002", "ip", "10.0.0.2", "endpoint", "", "role", "replica", "health", "online"},
	}}}))
	f.Add([]byte("*1\r\n*3\r\n$5\r\nnodes\r\n*0\r\n$2\r\nid\r\n"))
	f.Add([]byte("*-1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reply, ok := decode(b)
		if !ok {
			return
		}
		nodes, err := ParseClusterShards(reply)
		if err != nil {
			if nodes != nil {
				t.Fatal("nodes with an error")
			}
			return
		}
		checkNodes(t, nodes)
	})
}

func FuzzParseClusterNodes(f *testing.F) {
	f.Add(nodes70Text)
	f.Add(idM0 + " ::1:6380@16380 myself,master,fail? - 0 0 1 connected 0-5460 [5461->-" + idM1 + "]\r\n" +
		idR1 + " :0@0 slave,noaddr " + idM1 + " 0 0 2 disconnected\n" +
		idR0 + " 10.0.0.2:6379@16379,,shard-id=abc slave " + idM0 + " 0 0 1 connected\n")
	f.Add("a b c d e f g h\n")
	f.Fuzz(func(t *testing.T, text string) {
		nodes, err := ParseClusterNodes(text)
		if err != nil {
			if nodes != nil {
				t.Fatal("nodes with an error")
			}
			return
		}
		checkNodes(t, nodes)
		for _, n := range nodes {
			if n.NodeID == "" || n.Shard == "" {
				t.Fatalf("node without id or shard: %+v", n)
			}
		}
	})
}

func FuzzParseSentinelServers(f *testing.F) {
	f.Add(redistest.EncodeRESP2(a{sentinelMaster70("master")}), false, "")
	f.Add(redistest.EncodeRESP2(a{sentinelMaster70("s_down,o_down,master,disconnected")}), false, "")
	f.Add(redistest.EncodeRESP2(a{sentinelReplica70("s_down,slave,disconnected")}), true, "mymaster")
	f.Add(redistest.EncodeRESP2(a{a{"name", "m", "ip", "[::1]", "port", int64(6379)}, a{"ip", "x"}}), true, "m")
	f.Fuzz(func(t *testing.T, b []byte, replicas bool, master string) {
		reply, ok := decode(b)
		if !ok {
			return
		}
		role := RoleMaster
		if replicas {
			role = RoleReplica
		}
		nodes, err := ParseSentinelServers(reply, role, master)
		if err != nil {
			if nodes != nil {
				t.Fatal("nodes with an error")
			}
			return
		}
		checkNodes(t, nodes)
		for _, n := range nodes {
			if n.Role != role || n.MasterName == "" && role == RoleMaster {
				t.Fatalf("%+v for role %s", n, role)
			}
			switch n.Health {
			case "ok", "disconnected", "sdown", "odown":
			default:
				t.Fatalf("health %q", n.Health)
			}
		}
	})
}
