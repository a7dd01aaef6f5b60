package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// ClusterOptions adjust StartClusterWith.
type ClusterOptions struct {
	// Masters is the number of masters (at least 1); the slots are split
	// evenly between them.
	Masters int
	// ReplicasPerMaster replicas are attached to every master.
	ReplicasPerMaster int
	// Config is appended to every node's config (after cluster-enabled and
	// cluster-config-file).
	Config string
}

// StartCluster starts a Redis Cluster of masters nodes without replicas; see
// StartClusterWith.
func StartCluster(tb testing.TB, masters int, conf string) []*Server {
	tb.Helper()
	return StartClusterWith(tb, ClusterOptions{Masters: masters, Config: conf})
}

// StartClusterWith starts a Redis Cluster on loopback and returns once every
// node reports cluster_state:ok, knows every other node, agrees on which node
// replicates which, and every replica has synced. The masters come first in
// the result; replica j of master i is at Masters + i*ReplicasPerMaster + j.
func StartClusterWith(tb testing.TB, o ClusterOptions) []*Server {
	tb.Helper()
	if o.Masters < 1 || o.ReplicasPerMaster < 0 {
		tb.Fatalf("StartClusterWith: %d masters, %d replicas per master", o.Masters, o.ReplicasPerMaster)
	}
	total := o.Masters * (1 + o.ReplicasPerMaster)
	servers := make([]*Server, total)
	clients := make([]*redis.Client, total)
	ids := make([]string, total)
	ctx := context.Background()
	for i := range servers {
		dir := tb.TempDir()
		conf := fmt.Sprintf("cluster-enabled yes\ncluster-config-file %s/nodes.conf\n%s", dir, o.Config)
		servers[i] = StartWith(tb, Options{Dir: dir, Config: conf})
		clients[i] = servers[i].Client("", "")
		id, err := clients[i].Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			tb.Fatalf("CLUSTER MYID: %v", err)
		}
		ids[i] = id
	}
	// masterOf[i] is the index of node i's master, -1 for a master.
	masterOf := make([]int, total)
	for i := range masterOf {
		masterOf[i] = -1
		if i >= o.Masters {
			masterOf[i] = (i - o.Masters) / o.ReplicasPerMaster
		}
	}
	per := clusterSlots / o.Masters
	for i := 0; i < o.Masters; i++ {
		first, last := i*per, (i+1)*per-1
		if i == o.Masters-1 {
			last = clusterSlots - 1
		}
		must(tb, clients[i].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err(), "CLUSTER ADDSLOTSRANGE")
		// Distinct epochs, as redis-cli --cluster create sets them: equal
		// ones would be resolved by gossip first, which takes time.
		must(tb, clients[i].Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(), "CLUSTER SET-CONFIG-EPOCH")
	}
	for i := 1; i < total; i++ {
		must(tb, clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", servers[i].Port).Err(), "CLUSTER MEET")
	}
	// CLUSTER REPLICATE needs the replica to know its master.
	for i := o.Masters; i < total; i++ {
		master := ids[masterOf[i]]
		waitFor(tb, 20*time.Second, fmt.Sprintf("node %d to learn of its master", i), func() bool {
			nodes, err := clients[i].Do(ctx, "CLUSTER", "NODES").Text()
			return err == nil && strings.Contains(nodes, master+" ")
		})
		must(tb, clients[i].Do(ctx, "CLUSTER", "REPLICATE", master).Err(), "CLUSTER REPLICATE")
	}
	waitFor(tb, 30*time.Second, "the cluster to converge", func() bool {
		for i, c := range clients {
			if !clusterConverged(ctx, c, ids, masterOf) {
				return false
			}
			if masterOf[i] >= 0 && !linkUp(ctx, c) {
				return false
			}
			if !shardsSettled(ctx, c, masterOf) {
				return false
			}
		}
		return true
	})
	return servers
}

// shardsSettled reports whether the node's CLUSTER SHARDS (7.0+) groups
// the nodes into one shard per master. Valkey gossips a replica's shard id
// after CLUSTER NODES already shows it replicating, so for a moment the
// replica is a shard of its own there. Servers without CLUSTER SHARDS pass.
func shardsSettled(ctx context.Context, c *redis.Client, masterOf []int) bool {
	reply, err := c.Do(ctx, "CLUSTER", "SHARDS").Slice()
	if err != nil {
		return strings.Contains(err.Error(), "unknown subcommand") || strings.Contains(err.Error(), "Unknown subcommand")
	}
	masters := 0
	for _, m := range masterOf {
		if m < 0 {
			masters++
		}
	}
	return len(reply) == masters
}

// clusterConverged reports whether the node behind c says the cluster is ok
// and sees exactly the nodes ids, settled (no handshake, noaddr or failure
// flags), each replicating the master masterOf says.
func clusterConverged(ctx context.Context, c *redis.Client, ids []string, masterOf []int) bool {
	info, err := c.Do(ctx, "CLUSTER", "INFO").Text()
	if err != nil || !strings.Contains(info, "cluster_state:ok\r\n") ||
		!strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(ids))+"\r\n") {
		return false
	}
	text, err := c.Do(ctx, "CLUSTER", "NODES").Text()
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return false
		}
		for _, flag := range strings.Split(f[2], ",") {
			switch flag {
			case "handshake", "noaddr", "fail", "fail?":
				return false
			}
		}
		seen[f[0]] = true
		for i, id := range ids {
			if id != f[0] {
				continue
			}
			want := "-"
			if masterOf[i] >= 0 {
				want = ids[masterOf[i]]
			}
			if f[3] != want {
				return false
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return len(seen) == len(ids)
}

// linkUp reports whether the replica behind c has completed its sync.
func linkUp(ctx context.Context, c *redis.Client) bool {
	info, err := c.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "master_link_status:up\r\n")
}

// NodeID returns the server's cluster node id (CLUSTER MYID).
func (s *Server) NodeID() string {
	s.tb.Helper()
	return s.Do("", "", "CLUSTER", "MYID").(string)
}

// StartReplica starts a replica of master (replicaof 127.0.0.1 <port>, plus
// conf) and waits until its link to the master is up. The master's default
// user must be able to replicate (or conf carries masteruser/masterauth).
func StartReplica(tb testing.TB, master *Server, conf string) *Server {
	tb.Helper()
	s := Start(tb, fmt.Sprintf("replicaof 127.0.0.1 %d\n%s", master.Port, conf))
	c := s.Client("", "")
	waitFor(tb, 20*time.Second, "the replica's link to its master", func() bool {
		return linkUp(context.Background(), c)
	})
	return s
}

func must(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
