package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartSentinel starts a Sentinel (redis-server <conf> --sentinel) that
// monitors master under masterName with quorum 1, plus conf (e.g. "sentinel
// down-after-milliseconds <name> 500"). It returns once SENTINEL MASTERS lists
// the master and SENTINEL REPLICAS lists each of replicas.
//
// Sentinel learns of replicas from the master's INFO, which it reads at once
// on connecting and then every 10 s: start the replicas (StartReplica) before
// the Sentinel, or the wait can take that long.
func StartSentinel(tb testing.TB, masterName string, master *Server, conf string, replicas ...*Server) *Server {
	tb.Helper()
	// Sentinel rewrites its config file (its id, the replicas it found):
	// StartWith's config in the test's temp dir is writable.
	cfg := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\n%s", masterName, master.Port, conf)
	s := StartWith(tb, Options{Config: cfg, Sentinel: true})
	c := s.Client("", "")
	ctx := context.Background()
	// Wait until Sentinel is connected to each server, not only aware of
	// it: a fresh entry is flagged "disconnected" for a moment.
	waitFor(tb, 20*time.Second, "Sentinel to connect to the master and its replicas", func() bool {
		m, err := c.Do(ctx, "SENTINEL", "MASTER", masterName).Slice()
		if err != nil || !connected(m) {
			return false
		}
		v, err := c.Do(ctx, "SENTINEL", "REPLICAS", masterName).Slice()
		if err != nil {
			return false
		}
		listed := map[string]bool{}
		for _, r := range v {
			kv, _ := r.([]any)
			if connected(kv) {
				listed[field(kv, "port")] = true
			}
		}
		for _, r := range replicas {
			if !listed[strconv.Itoa(r.Port)] {
				return false
			}
		}
		return true
	})
	return s
}

// field returns the value of key in a flat key/value reply of Sentinel.
func field(kv []any, key string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == key {
			v, _ := kv[i+1].(string)
			return v
		}
	}
	return ""
}

// connected reports whether a Sentinel entry's flags show a live link.
func connected(kv []any) bool {
	flags := field(kv, "flags")
	return flags != "" && !strings.Contains(flags, "disconnected") && !strings.Contains(flags, "s_down")
}
