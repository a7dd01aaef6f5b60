package discovery_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/discovery"
)

// misspelt sends a misspelt subcommand in place of one, so that the real
// server answers with its own unknown-subcommand error (as a server too old
// for the subcommand does) and the fallback runs against the real server.
type misspelt struct {
	*redis.Client
	sub string
	// sent records the command and subcommand of every command sent.
	sent *[]string
}

func (m misspelt) Do(ctx context.Context, args ...any) *redis.Cmd {
	return m.Client.Do(ctx, m.respell(args)...)
}

func (m misspelt) Pipeline() redis.Pipeliner {
	return misspeltPipe{Pipeliner: m.Client.Pipeline(), m: m}
}

type misspeltPipe struct {
	redis.Pipeliner
	m misspelt
}

func (p misspeltPipe) Do(ctx context.Context, args ...any) *redis.Cmd {
	return p.Pipeliner.Do(ctx, p.m.respell(args)...)
}

func (m misspelt) respell(args []any) []any {
	out := append([]any(nil), args...)
	if len(out) > 1 && out[1] == m.sub {
		out[1] = m.sub + "X"
	}
	if len(out) > 1 {
		*m.sent = append(*m.sent, fmt.Sprint(out[0], " ", out[1]))
	}
	return out
}

// roundTrips counts the commands and pipelines a client sends.
type roundTrips struct{ commands, pipelines int }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		// Not the connection's handshake (HELLO, AUTH).
		if name := cmd.Name(); name != "hello" && name != "auth" {
			r.commands++
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.pipelines++
		return next(ctx, cmds)
	}
}

// poll calls f until it returns nil, failing the test with f's last error
// after timeout.
func poll(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shardID is the shard label discovery should give a master's shard: the
// shard's own id where CLUSTER SHARDS carries one (Valkey 9), else the
// master's node id (Redis 7.0-8.x and Valkey 8 send no shard id there).
func shardID(t *testing.T, master *redistest.Server, nodeID string) string {
	t.Helper()
	c := master.Client("", "")
	defer c.Close()
	shards, err := c.Do(context.Background(), "CLUSTER", "SHARDS").Slice()
	if err != nil {
		t.Fatalf("CLUSTER SHARDS: %v", err)
	}
	for _, sh := range shards {
		m := pairs(sh)
		for _, n := range asSlice(m["nodes"]) {
			if pairs(n)["id"] == nodeID {
				if id, ok := m["id"].(string); ok && id != "" {
					return id
				}
				return nodeID
			}
		}
	}
	t.Fatalf("CLUSTER SHARDS does not list node %s", nodeID)
	return ""
}

// byMasterShard names every node's shard by the node id of its master.
func byMasterShard(nodes []discovery.Node) []discovery.Node {
	master := map[string]string{}
	for _, n := range nodes {
		if n.Role == "master" {
			master[n.Shard] = n.NodeID
		}
	}
	out := slices.Clone(nodes)
	for i := range out {
		out[i].Shard = master[out[i].Shard]
	}
	slices.SortFunc(out, func(a, b discovery.Node) int {
		return cmp.Or(cmp.Compare(a.Shard, b.Shard), cmp.Compare(a.Role, b.Role), cmp.Compare(a.NodeID, b.NodeID))
	})
	return out
}

// pairs reads a RESP2 flat key-value array (or a RESP3 map) into a map.
func pairs(v any) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			if k, ok := x[i].(string); ok {
				out[k] = x[i+1]
			}
		}
	case map[any]any:
		for k, v := range x {
			if ks, ok := k.(string); ok {
				out[ks] = v
			}
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestCluster: a real 3-master cluster with a replica per master. Every node
// is listed with its role, id and shard, through CLUSTER SHARDS and through
// the CLUSTER NODES fallback alike; a node that fails stays listed, failed.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	servers := redistest.StartClusterWith(t, redistest.ClusterOptions{Masters: 3, ReplicasPerMaster: 1,
		Config: "cluster-node-timeout 1000"})
	// Replicas of masters that never had a write have replication offset 0,
	// which CLUSTER SHARDS reports as "loading": give every shard a write.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{servers[0].Addr()}, Protocol: 2, DisableIdentity: true})
	defer cc.Close()
	for i := range 30 {
		if err := cc.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]discovery.Node, len(servers))
	for i, s := range servers {
		id := s.NodeID()
		want[i] = discovery.Node{Host: "127.0.0.1", IP: "127.0.0.1", Port: s.Port, Role: "master", NodeID: id, Shard: shardID(t, s, id), Health: "online"}
		if i >= 3 {
			want[i].Role = "replica"
			want[i].Shard = want[i-3].Shard
		}
	}
	// By shard (the master's id), master first: "master" < "replica".
	slices.SortFunc(want, func(a, b discovery.Node) int {
		return cmp.Or(cmp.Compare(a.Shard, b.Shard), cmp.Compare(a.Role, b.Role))
	})
	stopped := want[len(want)-1]
	for _, n := range want {
		if n.Port == servers[5].Port {
			stopped = n
		}
	}
	seed := servers[4].Client("", "") // a replica: any node knows them all
	var got []discovery.Node
	poll(t, 15*time.Second, func() error {
		var err error
		if got, err = discovery.Cluster(ctx, seed); err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got\n%+v\nwant\n%+v", got, want)
		}
		return nil
	})

	t.Run("CLUSTER NODES fallback", func(t *testing.T) {
		var sent []string
		viaNodes, err := discovery.Cluster(ctx, misspelt{Client: seed, sub: "SHARDS", sent: &sent})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"CLUSTER SHARDSX", "CLUSTER NODES"}; !slices.Equal(sent, want) {
			t.Fatalf("sent %q, want %q", sent, want)
		}
		// The same nodes in the same shards; the shard's name may differ:
		// Valkey 9 names shards by id in CLUSTER SHARDS only.
		if !reflect.DeepEqual(byMasterShard(viaNodes), byMasterShard(got)) {
			t.Fatalf("CLUSTER NODES gave\n%+v\nCLUSTER SHARDS\n%+v", viaNodes, got)
		}
	})

	t.Run("NOPERM", func(t *testing.T) {
		servers[0].Do("", "", "ACL", "SETUSER", "sd-canary-user", "on", ">pw", "+@all", "-cluster")
		_, err := discovery.Cluster(ctx, servers[0].Client("sd-canary-user", "pw"))
		if !errors.Is(err, discovery.ErrDenied) {
			t.Fatalf("error %v, want ErrDenied", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "CLUSTER SHARDS") || !strings.Contains(msg, "NOPERM") || strings.Contains(msg, "sd-canary-user") {
			t.Fatalf("error text %q", msg)
		}
	})

	t.Run("failed replica stays listed", func(t *testing.T) {
		servers[5].Stop()
		poll(t, 15*time.Second, func() error {
			got, err := discovery.Cluster(ctx, seed)
			if err != nil {
				return err
			}
			for _, n := range got {
				if n.NodeID == stopped.NodeID {
					if n.Health != "failed" {
						return fmt.Errorf("stopped replica has health %q", n.Health)
					}
					if len(got) != len(want) {
						return fmt.Errorf("%d nodes", len(got))
					}
					return nil
				}
			}
			return errors.New("stopped replica not listed")
		})
	})
}

// TestClusterErrors: seeds that are no cluster nodes fail with a clear error.
func TestClusterErrors(t *testing.T) {
	ctx := context.Background()
	plain := redistest.Start(t, "")
	_, err := discovery.Cluster(ctx, plain.Client("", ""))
	if !errors.Is(err, discovery.ErrClusterDisabled) {
		t.Fatalf("cluster-enabled no: %v, want ErrClusterDisabled", err)
	}
	if want := "discovery: CLUSTER SHARDS: cluster support is disabled on the seed (ERR)"; err.Error() != want {
		t.Fatalf("error text %q, want %q", err, want)
	}
	plain.Do("", "", "CONFIG", "SET", "requirepass", "secret")
	_, err = discovery.Cluster(ctx, plain.Client("", ""))
	if !errors.Is(err, discovery.ErrAuth) {
		t.Fatalf("no AUTH: %v, want ErrAuth", err)
	}
	sentinel := redistest.StartSentinel(t, "m", plain, "sentinel auth-pass m secret")
	_, err = discovery.Cluster(ctx, sentinel.Client("", ""))
	if !errors.Is(err, discovery.ErrUnknownCommand) || !strings.Contains(err.Error(), "CLUSTER NODES") {
		t.Fatalf("Sentinel seed: %v, want ErrUnknownCommand after the fallback", err)
	}
	down := redistest.Start(t, "")
	c := down.Client("", "")
	down.Stop()
	_, err = discovery.Cluster(ctx, c)
	var re *discovery.ReplyError
	if err == nil || errors.As(err, &re) {
		t.Fatalf("server down: %v", err)
	}
}

// TestSentinel: a real Sentinel monitoring two masters, one with a replica.
// Both masters and the replica are listed with their master's name, through
// SENTINEL REPLICAS and the SLAVES fallback alike; a replica that goes down
// is reported sdown.
func TestSentinel(t *testing.T) {
	ctx := context.Background()
	master := redistest.Start(t, "")
	replica := redistest.StartReplica(t, master, "")
	other := redistest.Start(t, "")
	s := redistest.StartSentinel(t, "mymaster", master,
		"sentinel down-after-milliseconds mymaster 500\n"+
			fmt.Sprintf("sentinel monitor other 127.0.0.1 %d 1\n", other.Port), replica)
	seed := s.Client("", "")
	want := []discovery.Node{
		{Host: "127.0.0.1", IP: "127.0.0.1", Port: master.Port, Role: "master", MasterName: "mymaster", Health: "ok"},
		{Host: "127.0.0.1", IP: "127.0.0.1", Port: replica.Port, Role: "replica", MasterName: "mymaster", Health: "ok"},
		{Host: "127.0.0.1", IP: "127.0.0.1", Port: other.Port, Role: "master", MasterName: "other", Health: "ok"},
	}
	var got []discovery.Node
	poll(t, 10*time.Second, func() error {
		var err error
		if got, err = discovery.Sentinel(ctx, seed); err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got\n%+v\nwant\n%+v", got, want)
		}
		return nil
	})

	t.Run("one pipeline for the replicas", func(t *testing.T) {
		c := s.Client("", "")
		var rt roundTrips
		c.AddHook(&rt)
		if _, err := discovery.Sentinel(ctx, c); err != nil {
			t.Fatal(err)
		}
		if rt != (roundTrips{commands: 1, pipelines: 1}) {
			t.Fatalf("%+v, want SENTINEL MASTERS and one pipeline", rt)
		}
	})

	t.Run("SENTINEL SLAVES fallback", func(t *testing.T) {
		var sent []string
		viaSlaves, err := discovery.Sentinel(ctx, misspelt{Client: seed, sub: "REPLICAS", sent: &sent})
		if err != nil {
			t.Fatal(err)
		}
		// One pipeline of REPLICAS for both masters, then one of SLAVES.
		want := []string{"SENTINEL MASTERS", "SENTINEL REPLICASX", "SENTINEL REPLICASX", "SENTINEL SLAVES", "SENTINEL SLAVES"}
		if !slices.Equal(sent, want) {
			t.Fatalf("sent %q, want %q", sent, want)
		}
		if !reflect.DeepEqual(viaSlaves, got) {
			t.Fatalf("SLAVES gave\n%+v\nREPLICAS\n%+v", viaSlaves, got)
		}
	})

	t.Run("NOPERM", func(t *testing.T) {
		s.Do("", "", "ACL", "SETUSER", "sd-canary-user", "on", ">pw", "+@all", "-sentinel|replicas", "-sentinel|slaves")
		_, err := discovery.Sentinel(ctx, s.Client("sd-canary-user", "pw"))
		if !errors.Is(err, discovery.ErrDenied) || strings.Contains(err.Error(), "sd-canary-user") ||
			!strings.Contains(err.Error(), "SENTINEL REPLICAS") {
			t.Fatalf("error %v, want ErrDenied on SENTINEL REPLICAS", err)
		}
	})

	t.Run("not a Sentinel", func(t *testing.T) {
		_, err := discovery.Sentinel(ctx, master.Client("", ""))
		if !errors.Is(err, discovery.ErrUnknownCommand) {
			t.Fatalf("error %v, want ErrUnknownCommand", err)
		}
	})

	t.Run("replica down", func(t *testing.T) {
		replica.Stop()
		poll(t, 10*time.Second, func() error {
			got, err := discovery.Sentinel(ctx, seed)
			if err != nil {
				return err
			}
			if len(got) != 3 || got[1].Port != replica.Port || got[1].Health != "sdown" {
				return fmt.Errorf("got %+v, want the replica sdown", got)
			}
			return nil
		})
	})
}
