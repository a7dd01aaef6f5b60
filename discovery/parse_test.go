package discovery

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

type a = []any

// Node ids of the recorded 7.0.15 cluster: three shards of a master and a
// replica each.
const (
	idM0 = "465ca0fd2d5b1d65ed5e959ca564cd53e403b9c1" // master, slots 0-5460
	idM1 = "4e8593503ba6dce3f8bfbb83f3555f0f8d257bea" // master, slots 5461-10921
	idM2 = "61cba80c0519232f9e7a0f8463646d6d0d0fd14e" // master, slots 10922-16383
	idR0 = "bc1751217e85ba777f57140ae6624b6bd777cb40" // replica of idM0
	idR1 = "079602e95ebc3c76004c60b3060df92b1d04d1ed" // replica of idM1
	idR2 = "74bd83080ff9e64ffe0e5094107467ca5c42a50e" // replica of idM2
)

// shardNode is a node of a CLUSTER SHARDS reply as 7.0.15 sends it.
func shardNode(id string, port int64, role, health string, extra ...any) a {
	n := a{"id", id, "port", port, "ip", "127.0.0.1", "endpoint", "127.0.0.1"}
	n = append(n, extra...)
	return append(n, "role", role, "replication-offset", int64(0), "health", health)
}

// shards70 is CLUSTER SHARDS of a fresh 7.0.15 cluster (the replicas have no
// data yet, hence "loading"), in the server's order; hostnames adds
// cluster-announce-hostname node-N.example to every node, and replica 2 is
// down.
func shards70(hostnames bool) a {
	h := func(n int) []any {
		if !hostnames {
			return nil
		}
		return []any{"hostname", "node-" + string(rune('0'+n)) + ".example"}
	}
	r2Health := "loading"
	if hostnames {
		r2Health = "fail"
	}
	return a{
		a{"slots", a{int64(5461), int64(10921)}, "nodes", a{
			shardNode(idM1, 35713, "master", "online", h(1)...),
			shardNode(idR1, 42821, "replica", "loading", h(4)...),
		}},
		a{"slots", a{int64(0), int64(5460)}, "nodes", a{
			shardNode(idM0, 42651, "master", "online", h(0)...),
			shardNode(idR0, 33271, "replica", "loading", h(3)...),
		}},
		a{"slots", a{int64(10922), int64(16383)}, "nodes", a{
			shardNode(idM2, 41267, "master", "online", h(2)...),
			shardNode(idR2, 40651, "replica", r2Health, h(5)...),
		}},
	}
}

// nodes70 is what the recorded cluster should give, in order.
func nodes70(health string, hostnames bool, r2Health string) []Node {
	n := func(id, shard string, port int, role, health string, host int) Node {
		node := Node{Host: "127.0.0.1", IP: "127.0.0.1", Port: port, Role: role, NodeID: id, Shard: shard, Health: health}
		if hostnames {
			node.Hostname = "node-" + string(rune('0'+host)) + ".example"
		}
		return node
	}
	return []Node{
		n(idM0, idM0, 42651, "master", "online", 0),
		n(idR0, idM0, 33271, "replica", health, 3),
		n(idM1, idM1, 35713, "master", "online", 1),
		n(idR1, idM1, 42821, "replica", health, 4),
		n(idM2, idM2, 41267, "master", "online", 2),
		n(idR2, idM2, 40651, "replica", r2Health, 5),
	}
}

func TestParseClusterShards(t *testing.T) {
	many := make(a, MaxNodes+1)
	for i := range many {
		many[i] = a{"slots", a{}, "nodes", a{}}
	}
	bigShard := make(a, MaxNodes+1)
	for i := range bigShard {
		bigShard[i] = shardNode(idM0, 7000, "replica", "online")
	}
	tests := []struct {
		name  string
		reply any
		want  []Node
		err   error
	}{
		{name: "7.0.15, fresh cluster", reply: shards70(false), want: nodes70("loading", false, "loading")},
		{name: "7.0.15, announced host names (endpoint type ip), a failed replica", reply: shards70(true),
			want: nodes70("loading", true, "failed")},
		{name: "7.0.15 single node that never met a peer: no IP", reply: a{
			a{"slots", a{int64(0), int64(16383)}, "nodes", a{a{"id", idM0, "port", int64(41347), "ip", "", "endpoint", "", "role", "master", "replication-offset", int64(0), "health", "online"}}},
		}},
		{name: "7.0.15 with TLS", reply: a{
			a{"slots", a{int64(0), int64(16383)}, "nodes", a{a{"id", idM0, "port", int64(39631), "tls-port", int64(36789), "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "master", "replication-offset", int64(0), "health", "online"}}},
		}, want: []Node{{Host: "127.0.0.1", IP: "127.0.0.1", Port: 39631, TLSPort: 36789, Role: "master", NodeID: idM0, Shard: idM0, Health: "online"}}},
		{name: "TLS only (no plaintext port)", reply: a{
			a{"slots", a{}, "nodes", a{a{"id", idM0, "tls-port", int64(6380), "ip", "10.0.0.1", "endpoint", "10.0.0.1", "role", "master", "health", "online"}}},
		}, want: []Node{{Host: "10.0.0.1", IP: "10.0.0.1", TLSPort: 6380, Role: "master", NodeID: idM0, Shard: idM0, Health: "online"}}},
		{name: "7.2-style shard id, endpoint type hostname, unknown keys", reply: a{
			a{"slots", a{int64(0), int64(16383)}, "id", "shard-0000000000000000000000000000000000a", "nodes", a{
				a{"id", idR0, "port", int64(6379), "ip", "10.0.0.2", "endpoint", "redis-1.redis.svc", "hostname", "redis-1.redis.svc",
					"role", "replica", "replication-offset", int64(5), "health", "online", "availability-zone", "az1"},
				a{"id", idM0, "port", int64(6379), "ip", "10.0.0.1", "endpoint", "redis-0.redis.svc", "hostname", "redis-0.redis.svc",
					"role", "master", "replication-offset", int64(5), "health", "online"},
			}},
		}, want: []Node{
			{Host: "redis-0.redis.svc", IP: "10.0.0.1", Hostname: "redis-0.redis.svc", Port: 6379, Role: "master", NodeID: idM0, Shard: "shard-0000000000000000000000000000000000a", Health: "online"},
			{Host: "redis-1.redis.svc", IP: "10.0.0.2", Hostname: "redis-1.redis.svc", Port: 6379, Role: "replica", NodeID: idR0, Shard: "shard-0000000000000000000000000000000000a", Health: "online"},
		}},
		{name: "RESP3 maps, role primary, unknown-endpoint", reply: a{
			map[any]any{"slots": a{}, "nodes": a{
				map[any]any{"id": idM0, "port": int64(7000), "ip": "10.0.0.1", "endpoint": "?", "hostname": "a.example", "role": "primary", "health": "online"},
				map[any]any{"id": idR0, "port": int64(7001), "ip": "10.0.0.2", "endpoint": "?", "role": "replica", "health": "failed"},
			}},
		}, want: []Node{
			{Host: "a.example", IP: "10.0.0.1", Hostname: "a.example", Port: 7000, Role: "master", NodeID: idM0, Shard: idM0, Health: "online"},
			{Host: "10.0.0.2", IP: "10.0.0.2", Port: 7001, Role: "replica", NodeID: idR0, Shard: idM0, Health: "failed"},
		}},
		{name: "IPv6, mapped IPv4, string port, shard without master", reply: a{
			a{"nodes", a{
				a{"id", idR1, "port", "7001", "ip", "::ffff:10.0.0.9", "role", "replica", "health", "weird"},
				a{"id", idR0, "port", int64(7000), "ip", "[2001:db8::1]", "endpoint", "2001:db8::1", "role", "slave", "health", "loading"},
			}},
		}, want: []Node{
			{Host: "10.0.0.9", IP: "10.0.0.9", Port: 7001, Role: "replica", NodeID: idR1, Shard: idR1, Health: "unknown"},
			{Host: "2001:db8::1", IP: "2001:db8::1", Port: 7000, Role: "replica", NodeID: idR0, Shard: idR1, Health: "loading"},
		}},
		{name: "unusable names fall back to the IP; nodes without address or port left out", reply: a{
			a{"nodes", a{
				a{"id", idM0, "port", int64(7000), "ip", "10.0.0.1", "endpoint", "evil host/x?y", "hostname", "a..b", "role", "master"},
				a{"id", idR0, "port", int64(7001), "ip", "10.0.0.2", "endpoint", "0x7f000001", "hostname", "10.1", "role", "replica"},
				a{"id", idR1, "port", int64(0), "ip", "10.0.0.3", "role", "replica"},
				a{"id", idR2, "port", int64(-7000), "tls-port", int64(1 << 40), "ip", "10.0.0.4", "role", "replica"},
				a{"id", idM1, "port", int64(7002), "ip", "fe80::1%eth0", "endpoint", 17, "role", "replica"},
				a{"id", idM2, "port", "99999999999999999999", "ip", "10.0.0.5", "role", "replica"},
			}},
		}, want: []Node{
			{Host: "10.0.0.1", IP: "10.0.0.1", Port: 7000, Role: "master", NodeID: idM0, Shard: idM0, Health: "unknown"},
			{Host: "10.0.0.2", IP: "10.0.0.2", Port: 7001, Role: "replica", NodeID: idR0, Shard: idM0, Health: "unknown"},
		}},
		{name: "no shards", reply: a{}},
		{name: "nil", reply: nil, err: ErrMalformed},
		{name: "a string", reply: "ERR", err: ErrMalformed},
		{name: "shard is an integer", reply: a{int64(1)}, err: ErrMalformed},
		{name: "odd shard map", reply: a{a{"slots", a{}, "nodes"}}, err: ErrMalformed},
		{name: "shard without nodes", reply: a{a{"slots", a{}}}, err: ErrMalformed},
		{name: "nodes not an array", reply: a{a{"nodes", "x"}}, err: ErrMalformed},
		{name: "odd node map", reply: a{a{"nodes", a{a{"id", idM0, "port"}}}}, err: ErrMalformed},
		{name: "map key not a string", reply: a{a{"nodes", a{a{int64(1), "x"}}}}, err: ErrMalformed},
		{name: "RESP3 key not a string", reply: a{map[any]any{int64(1): "x"}}, err: ErrMalformed},
		{name: "node id not a string", reply: a{a{"nodes", a{a{"id", int64(1), "port", int64(7000), "ip", "10.0.0.1"}}}}, err: ErrMalformed},
		{name: "node id too long", reply: a{a{"nodes", a{a{"id", strings.Repeat("f", maxField+1), "port", int64(7000), "ip", "10.0.0.1"}}}}, err: ErrMalformed},
		{name: "shard id not a string", reply: a{a{"id", a{}, "nodes", a{}}}, err: ErrMalformed},
		{name: "too many shards", reply: many, err: ErrTooManyNodes},
		{name: "too many nodes", reply: a{a{"nodes", bigShard}}, err: ErrTooManyNodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterShards(tt.reply)
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// nodes70Text is CLUSTER NODES of the recorded 7.0.15 cluster, taken with
// the host names announced and replica 2 down.
const nodes70Text = idM1 + " 127.0.0.1:35713@45713,node-1.example master - 0 1795328938093 2 connected 5461-10921\n" +
	idR2 + " 127.0.0.1:40651@50651,node-5.example slave,fail " + idM2 + " 1795328934570 1795328934000 3 disconnected\n" +
	idR0 + " 127.0.0.1:33271@43271,node-3.example slave " + idM0 + " 0 1795328938093 1 connected\n" +
	idM0 + " 127.0.0.1:42651@52651,node-0.example myself,master - 0 1795328938000 1 connected 0-5460\n" +
	idM2 + " 127.0.0.1:41267@51267,node-2.example master - 0 1795328938194 3 connected 10922-16383\n" +
	idR1 + " 127.0.0.1:42821@52821,node-4.example slave " + idM1 + " 0 1795328938093 2 connected\n"

func TestParseClusterNodes(t *testing.T) {
	tooMany := strings.Repeat(idM0+" 10.0.0.1:7000@17000 master - 0 0 1 connected\n", MaxNodes+1)
	node := func(host string, port int, role, id, shard, health string) Node {
		return Node{Host: host, IP: host, Port: port, Role: role, NodeID: id, Shard: shard, Health: health}
	}
	tests := []struct {
		name string
		text string
		want []Node
		err  error
	}{
		{name: "7.0.15 with host names, a failed replica", text: nodes70Text, want: nodes70("online", true, "failed")},
		{name: "7.0.15 without host names", text: regexp.MustCompile(`,node-\d\.example|,fail`).ReplaceAllString(nodes70Text, ""),
			want: nodes70("online", false, "online")},
		{name: "6.x style: no host names, IPv6, noaddr, handshake, fail?, migrating slots, CRLF", text: "" +
			idM0 + " 10.0.0.1:6379@16379 myself,master - 0 1700000000000 1 connected 0-5460 [5461->-" + idM1 + "]\r\n" +
			idM1 + " ::1:6380@16380 master,fail? - 1700000000000 1700000000000 2 connected 5461-16383\r\n" +
			idR0 + " 10.0.0.3:6381@16381 slave " + idM0 + " 0 1700000000000 1 disconnected\r\n" +
			idR1 + " :0@0 slave,noaddr " + idM1 + " 0 0 2 disconnected\r\n" +
			"0123456789012345678901234567890123456789 10.0.0.9:6379@16379 handshake - 0 0 0 connected\r\n",
			want: []Node{
				node("10.0.0.1", 6379, "master", idM0, idM0, "online"),
				node("10.0.0.3", 6381, "replica", idR0, idM0, "online"),
				node("::1", 6380, "master", idM1, idM1, "failed"),
			}},
		{name: "3.x style without bus port, replica flag", text: idM0 + " 10.0.0.1:6379 master - 0 0 1 connected 0-16383\n" +
			idR0 + " 10.0.0.2:6379 replica " + idM0 + " 0 0 1 connected\n",
			want: []Node{node("10.0.0.1", 6379, "master", idM0, idM0, "online"), node("10.0.0.2", 6379, "replica", idR0, idM0, "online")}},
		{name: "7.2 nodes.conf-style aux fields, empty host name", text: idM0 + " 10.0.0.1:6379@16379,,shard-id=" + idM2 + ",tls-port=0 master - 0 0 1 connected\n" +
			idR0 + " 10.0.0.2:6379@16379,r.example,shard-id=" + idM2 + " slave " + idM0 + " 0 0 1 connected\n",
			want: []Node{
				node("10.0.0.1", 6379, "master", idM0, idM2, "online"),
				{Host: "10.0.0.2", IP: "10.0.0.2", Hostname: "r.example", Port: 6379, Role: "replica", NodeID: idR0, Shard: idM2, Health: "online"},
			}},
		{name: "unusable IP, host name stands in; bad ports left out", text: idM0 + " :6379@16379,m.example myself,master - 0 0 1 connected\n" +
			idR0 + " 10.0.0.2:-1@16379 slave " + idM0 + " 0 0 1 connected\n" +
			idR1 + " 10.0.0.3:65536@16379 slave " + idM0 + " 0 0 1 connected\n" +
			idR2 + " 10.0.0.4 slave " + idM0 + " 0 0 1 connected\n",
			want: []Node{{Host: "m.example", Hostname: "m.example", Port: 6379, Role: "master", NodeID: idM0, Shard: idM0, Health: "online"}}},
		{name: "empty", text: ""},
		{name: "blank lines", text: "\n\r\n  \n"},
		{name: "too few fields", text: idM0 + " 10.0.0.1:6379@16379 master - 0 0 1\n", err: ErrMalformed},
		{name: "double space", text: idM0 + "  10.0.0.1:6379@16379 master - 0 0 1 connected\n", err: ErrMalformed},
		{name: "an error text", text: "ERR This instance has cluster support disabled", err: ErrMalformed},
		{name: "id too long", text: strings.Repeat("a", maxField+1) + " 10.0.0.1:6379@16379 master - 0 0 1 connected\n", err: ErrMalformed},
		{name: "too many nodes", text: tooMany, err: ErrTooManyNodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterNodes(tt.text)
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// sentinelMaster70 and sentinelReplica70 are entries of SENTINEL MASTERS and
// SENTINEL REPLICAS mymaster of 7.0.15.
func sentinelMaster70(flags string) a {
	return a{"name", "mymaster", "ip", "127.0.0.1", "port", "37285", "runid", "66c5699aaba747f40539e26b3962a921f08a7ba0",
		"flags", flags, "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "0", "last-ok-ping-reply", "14",
		"last-ping-reply", "14", "down-after-milliseconds", "500", "info-refresh", "13", "role-reported", "master",
		"role-reported-time", "17", "config-epoch", "0", "num-slaves", "1", "num-other-sentinels", "0", "quorum", "1",
		"failover-timeout", "180000", "parallel-syncs", "1"}
}

func sentinelReplica70(flags string) a {
	return a{"name", "127.0.0.1:46473", "ip", "127.0.0.1", "port", "46473", "runid", "", "flags", flags,
		"link-pending-commands", "2", "link-refcount", "1", "last-ping-sent", "1516", "last-ok-ping-reply", "1516",
		"last-ping-reply", "1516", "s-down-time", "957", "down-after-milliseconds", "500", "info-refresh", "0",
		"role-reported", "slave", "role-reported-time", "1516", "master-link-down-time", "0", "master-link-status", "err",
		"master-host", "?", "master-port", "0", "slave-priority", "100", "slave-repl-offset", "0", "replica-announced", "1"}
}

func TestParseSentinelServers(t *testing.T) {
	master := func(name, host string, port int, health string) Node {
		return Node{Host: host, IP: host, Port: port, Role: "master", MasterName: name, Health: health}
	}
	replica := func(host string, port int, health string) Node {
		return Node{Host: host, IP: host, Port: port, Role: "replica", MasterName: "mymaster", Health: health}
	}
	tests := []struct {
		name   string
		reply  any
		role   string
		master string
		want   []Node
		err    error
	}{
		{name: "7.0.15 masters", reply: a{sentinelMaster70("master")}, role: "master",
			want: []Node{master("mymaster", "127.0.0.1", 37285, "ok")}},
		{name: "7.0.15 master down", reply: a{sentinelMaster70("s_down,o_down,master,disconnected")}, role: "master",
			want: []Node{master("mymaster", "127.0.0.1", 37285, "odown")}},
		{name: "7.0.15 replicas", reply: a{sentinelReplica70("slave")}, role: "replica", master: "mymaster",
			want: []Node{replica("127.0.0.1", 46473, "ok")}},
		{name: "7.0.15 replica down", reply: a{sentinelReplica70("s_down,slave,disconnected")}, role: "replica", master: "mymaster",
			want: []Node{replica("127.0.0.1", 46473, "sdown")}},
		{name: "7.0.15 replica not yet connected", reply: a{sentinelReplica70("slave,disconnected")}, role: "replica", master: "mymaster",
			want: []Node{replica("127.0.0.1", 46473, "disconnected")}},
		{name: "several masters, sorted; host names; RESP3 map; integer port", role: "master", reply: a{
			a{"name", "b", "ip", "redis-b.svc", "port", "6379", "flags", "master"},
			map[any]any{"name": "a", "ip": "10.0.0.1", "port": int64(6379), "flags": "master"},
		}, want: []Node{master("a", "10.0.0.1", 6379, "ok"), {Host: "redis-b.svc", Hostname: "redis-b.svc", Port: 6379, Role: "master", MasterName: "b", Health: "ok"}}},
		{name: "replicas without usable address left out", role: "replica", master: "mymaster", reply: a{
			a{"name", "x", "ip", "10.0.0.2", "port", "0", "flags", "slave"},
			a{"name", "x", "ip", "?", "port", "6379", "flags", "slave"},
			a{"name", "x", "port", "6379", "flags", "slave"},
			a{"name", "x", "ip", "10.0.0.3", "port", "-1", "flags", "slave"},
			a{"name", "x", "ip", "10.0.0.4", "port", "6379"},
		}, want: []Node{replica("10.0.0.4", 6379, "ok")}},
		{name: "empty", reply: a{}, role: "master"},
		{name: "bad role", reply: a{}, role: "slave", err: errAny},
		{name: "not an array", reply: "OK", role: "master", err: ErrMalformed},
		{name: "nil", reply: nil, role: "master", err: ErrMalformed},
		{name: "entry not a map", reply: a{"name"}, role: "master", err: ErrMalformed},
		{name: "odd entry", reply: a{a{"name", "m", "ip"}}, role: "master", err: ErrMalformed},
		{name: "master without a name", reply: a{a{"ip", "10.0.0.1", "port", "6379"}}, role: "master", err: ErrMalformed},
		{name: "master name not a string", reply: a{a{"name", int64(5), "ip", "10.0.0.1", "port", "6379"}}, role: "master", err: ErrMalformed},
		{name: "master name too long", reply: a{a{"name", strings.Repeat("m", maxField+1)}}, role: "master", err: ErrMalformed},
		{name: "too many", reply: make(a, MaxNodes+1), role: "replica", master: "m", err: ErrTooManyNodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSentinelServers(tt.reply, tt.role, tt.master)
			switch {
			case tt.err == errAny && err != nil:
			case !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil):
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// errAny stands for "some error" in the tables.
var errAny = errors.New("any error")

func TestCleanHost(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "::1": "::1", "[::1]": "::1", "::ffff:127.0.0.1": "127.0.0.1",
		"redis-0.redis.default.svc.cluster.local": "redis-0.redis.default.svc.cluster.local",
		"redis_1": "redis_1", "host.example.": "host.example.", "localhost": "localhost",
		"": "", "?": "", "a b": "", "a/b": "", "a:b": "", "a..b": "", ".": "", "-a": "",
		"10.1": "", "167772161": "", "0x7f000001": "", "a.0X7F": "", "fe80::1%eth0": "",
		"héllo": "", strings.Repeat("a", 64): "", strings.Repeat("a.", 127) + "b": "",
	} {
		if got := cleanHost(in); got != want {
			t.Errorf("cleanHost(%q) = %q, want %q", in, got, want)
		}
	}
}
