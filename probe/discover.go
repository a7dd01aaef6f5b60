package probe

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log/level"

	"github.com/redis-security/redis_security_exporter/allowlist"
	"github.com/redis-security/redis_security_exporter/discovery"
)

// targetGroup is one entry of Prometheus's http_sd format.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// ServeDiscoverCluster is GET /discover/cluster?module=...&target=<seed>:
// every node of the seed's Redis Cluster, as http_sd target groups.
func (p *Prober) ServeDiscoverCluster(w http.ResponseWriter, r *http.Request) {
	p.serveDiscover(w, r, "discover_cluster", discovery.Cluster)
}

// ServeDiscoverSentinel is GET /discover/sentinel?module=...&target=<sentinel>:
// every master and replica the Sentinel monitors, as http_sd target groups.
func (p *Prober) ServeDiscoverSentinel(w http.ResponseWriter, r *http.Request) {
	p.serveDiscover(w, r, "discover_sentinel", discovery.Sentinel)
}

func (p *Prober) serveDiscover(w http.ResponseWriter, r *http.Request, endpoint string,
	list func(context.Context, discovery.Client) ([]discovery.Node, error)) {
	start := time.Now()
	req, e, ctx, finish, ok := p.admit(w, r, endpoint)
	if !ok {
		return
	}
	defer finish()
	moduleLabel := req.module.Name

	nodes, err := list(ctx, e.target.Client())
	if err != nil {
		p.metrics.request(endpoint, moduleLabel, resultFailure)
		level.Error(p.logger).Log("msg", "discovery failed", "endpoint", endpoint, "module", moduleLabel, "seed", req.addr, "err", err)
		// A non-200 answer makes Prometheus keep the targets it has.
		http.Error(w, "discovery failed: "+discoveryFailure(err), http.StatusBadGateway)
		return
	}
	groups := make([]targetGroup, 0, len(nodes))
	denied := 0
	for _, n := range nodes {
		target, ok := p.nodeTarget(ctx, req, n)
		if !ok {
			denied++
			continue
		}
		groups = append(groups, targetGroup{Targets: []string{target}, Labels: nodeLabels(req, n)})
	}
	if denied > 0 {
		level.Warn(p.logger).Log("msg", "discovered nodes outside the module's allowed_targets were left out", "endpoint", endpoint, "module", moduleLabel, "seed", req.addr, "nodes", denied)
	}
	p.metrics.deniedNodes(endpoint, moduleLabel, denied)
	p.metrics.request(endpoint, moduleLabel, resultSuccess)
	p.metrics.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(groups); err != nil {
		level.Debug(p.logger).Log("msg", "writing the discovery answer", "err", err)
	}
}

// discoveryFailure says why a discovery failed in words that carry nothing
// from the seed's replies or the network (the body reaches the caller).
func discoveryFailure(err error) string {
	for _, kind := range []error{discovery.ErrDenied, discovery.ErrAuth, discovery.ErrClusterDisabled,
		discovery.ErrUnknownCommand, discovery.ErrMalformed, discovery.ErrTooManyNodes} {
		if errors.Is(err, kind) {
			return kind.Error()
		}
	}
	return "the seed did not answer (see the exporter's log)"
}

// nodeTarget is the /probe target of a discovered node, reached the way the
// seed was (rediss:// through the TLS port when the seed was rediss://), if
// the module's allowlist admits it.
func (p *Prober) nodeTarget(ctx context.Context, req request, n discovery.Node) (string, bool) {
	port := n.Port
	scheme := ""
	if req.addr.TLS {
		scheme = "rediss://"
		if n.TLSPort > 0 {
			port = n.TLSPort
		}
	}
	if n.Host == "" || port <= 0 {
		return "", false
	}
	switch req.module.Allowlist.Decide(n.Host, port) {
	case allowlist.Allowed:
	case allowlist.NeedsLookup:
		if _, err := req.module.Allowlist.Resolve(ctx, p.opts.Resolver, n.Host, port); err != nil {
			return "", false
		}
	default:
		return "", false
	}
	return scheme + net.JoinHostPort(n.Host, strconv.Itoa(port)), true
}

func nodeLabels(req request, n discovery.Node) map[string]string {
	labels := map[string]string{
		"__param_module":    req.module.Name,
		"__meta_redis_role": n.Role,
		"__meta_redis_seed": req.addr.String(),
	}
	set := func(k, v string) {
		if v != "" {
			labels[k] = v
		}
	}
	set("__meta_redis_cluster_shard", n.Shard)
	set("__meta_redis_cluster_node_id", n.NodeID)
	set("__meta_redis_sentinel_master", n.MasterName)
	set("__meta_redis_health", n.Health)
	return labels
}
