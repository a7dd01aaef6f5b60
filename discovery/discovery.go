// Package discovery lists the servers behind a seed: the nodes of a Redis
// Cluster (CLUSTER SHARDS, or CLUSTER NODES before 7.0) and the masters and
// replicas a Sentinel monitors (SENTINEL MASTERS and REPLICAS), for
// Prometheus http_sd.
//
// It only asks and parses. The caller owns the connection to the seed and
// must check every returned address against its allowlist before probing
// it: the addresses are whatever the seed, and through gossip any node of
// the cluster, announce.
//
// Nodes Prometheus could not scrape are left out: no address (noaddr, an
// empty or unusable host, no port), or still in the cluster handshake. A
// single-node cluster that never met a peer does not know its own IP and so
// lists nothing; the seed is the caller's target anyway. Failed nodes are
// kept, with Health "failed", so that Prometheus sees them down.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// MaxNodes bounds the entries a reply may hold: beyond it discovery fails
// with ErrTooManyNodes rather than let a hostile seed make the exporter
// allocate and sort without bound. Real clusters stop at about 1,000 nodes.
const MaxNodes = 10000

// Node is one server found through a seed.
type Node struct {
	// Host is the address to scrape: an IP (IPv6 without brackets,
	// IPv4-mapped ones unmapped) or a syntactically valid host name; an
	// announced name that is neither is not used. From CLUSTER SHARDS it is
	// the node's endpoint, else its host name, else its IP (see
	// hostForShards for why); from CLUSTER NODES its IP, else its host name;
	// from Sentinel the address Sentinel connects to.
	Host string
	// Port is the plaintext client port, 0 when the node announces none.
	// From CLUSTER NODES (servers without CLUSTER SHARDS) it is the one
	// client port NODES shows, which is the TLS port on a cluster running
	// tls-cluster yes: NODES does not say which it is.
	Port int
	// TLSPort is the TLS client port when known (CLUSTER SHARDS
	// "tls-port"), else 0.
	TLSPort int
	// Role is "master" or "replica".
	Role string
	// NodeID is the cluster node id ("" for Sentinel).
	NodeID string
	// Shard groups a master with its replicas: the shard id of CLUSTER
	// SHARDS when the server sends one, else the master's node id. "" for
	// Sentinel.
	Shard string
	// MasterName is the name under which Sentinel monitors the master
	// ("" for a cluster).
	MasterName string
	// Health is, for a cluster node, "online", "failed", "loading" (a
	// replica that has not received data yet) or "unknown"; for a Sentinel
	// entry "ok", "disconnected", "sdown" or "odown".
	Health string
	// IP and Hostname are the node's announced IP and host name, "" when
	// it announces none or an unusable one: for labels, or for a TLS
	// server name when Host is the IP.
	IP       string
	Hostname string
}

// Node.Role values. Replicas are "replica" whatever the server calls them
// ("slave" in CLUSTER NODES and Sentinel's flags).
const (
	RoleMaster  = "master"
	RoleReplica = "replica"
)

// Client is what discovery needs of a go-redis client connected to the
// seed: a *redis.Client (or redis.UniversalClient) satisfies it. It is not
// redis.Cmdable, which has Pipeline but no Do. Pass a client bound to the
// seed, not a *redis.ClusterClient or a failover client: they would send
// the commands to another node.
type Client interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
	Pipeline() redis.Pipeliner
}

// Error kinds; test with errors.Is.
var (
	// ErrDenied: the seed refused the command to the connection's user
	// (NOPERM).
	ErrDenied = errors.New("permission denied")
	// ErrAuth: the connection is not authenticated (NOAUTH, WRONGPASS).
	ErrAuth = errors.New("not authenticated")
	// ErrClusterDisabled: the seed is a Redis server without cluster
	// support (cluster-enabled no).
	ErrClusterDisabled = errors.New("cluster support is disabled on the seed")
	// ErrUnknownCommand: the seed does not have the command, e.g. CLUSTER
	// on a Sentinel, SENTINEL on a plain server, or a renamed command.
	ErrUnknownCommand = errors.New("unknown command")
	// ErrMalformed: the reply is not shaped as the command's reply is.
	ErrMalformed = errors.New("malformed reply")
	// ErrTooManyNodes: the replies list more than MaxNodes servers.
	ErrTooManyNodes = fmt.Errorf("more than %d servers", MaxNodes)
)

// ReplyError is an error reply of the seed. It keeps the error code but not
// the text: the NOPERM text of some versions names the user, and a hostile
// seed chooses the text.
type ReplyError struct {
	// Command is what was sent, e.g. "CLUSTER SHARDS".
	Command string
	// Code is the reply's error code ("NOPERM", "ERR", ...), "" when the
	// reply does not start with one.
	Code string
	// Kind is ErrDenied, ErrAuth, ErrClusterDisabled, ErrUnknownCommand or
	// nil.
	Kind error
}

func (e *ReplyError) Error() string {
	what := "the seed replied with an error"
	if e.Kind != nil {
		what = e.Kind.Error()
	}
	if e.Code != "" {
		what += " (" + e.Code + ")"
	}
	return "discovery: " + e.Command + ": " + what
}

func (e *ReplyError) Unwrap() error { return e.Kind }

// commandError turns the error of a command into the package's errors.
// Errors that are not error replies (the connection, the context) are
// wrapped as they are: they come from go-redis and name no more than the
// address.
func commandError(command string, err error) error {
	var re redis.Error
	if !errors.As(err, &re) || errors.Is(err, redis.Nil) {
		return fmt.Errorf("discovery: %s: %w", command, err)
	}
	msg := re.Error()
	code, _, _ := strings.Cut(msg, " ")
	if !isErrorCode(code) {
		code = ""
	}
	lower := strings.ToLower(msg)
	var kind error
	switch {
	case code == "NOPERM":
		kind = ErrDenied
	case code == "NOAUTH" || code == "WRONGPASS":
		kind = ErrAuth
	case strings.Contains(lower, "cluster support disabled"):
		kind = ErrClusterDisabled
	// "unknown subcommand 'x'" (7.0+), "Unknown subcommand or wrong number
	// of arguments for 'x'" (6.x), "Unknown sentinel subcommand 'x'" (Sentinel
	// before 6.2), "unknown command 'X', with args beginning with: ...".
	case strings.Contains(lower, "unknown subcommand"), strings.Contains(lower, "unknown sentinel subcommand"),
		strings.Contains(lower, "unknown command"):
		kind = ErrUnknownCommand
	}
	return &ReplyError{Command: command, Code: code, Kind: kind}
}

// isErrorCode reports whether s looks like a RESP error code, so that only
// such a word, never free text, reaches the error.
func isErrorCode(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// do runs one command and returns its reply; a nil reply is passed on as
// nil for the parser to refuse.
func do(ctx context.Context, c Client, args ...any) (any, error) {
	v, err := c.Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, commandError(commandName(args), err)
	}
	return v, nil
}

// commandName is the command and subcommand of args, for errors (never the
// further arguments, such as a master name).
func commandName(args []any) string {
	var parts []string
	for i := 0; i < len(args) && i < 2; i++ {
		parts = append(parts, fmt.Sprint(args[i]))
	}
	return strings.Join(parts, " ")
}

// Cluster lists the nodes of the cluster the seed behind c belongs to, as the
// seed sees them. It asks CLUSTER SHARDS (Redis 7.0+, Valkey 7.2+) and falls
// back to CLUSTER NODES when the seed does not know it.
func Cluster(ctx context.Context, c Client) ([]Node, error) {
	v, err := do(ctx, c, "CLUSTER", "SHARDS")
	if err == nil {
		nodes, err := ParseClusterShards(v)
		if err != nil {
			return nil, fmt.Errorf("discovery: CLUSTER SHARDS: %w", err)
		}
		return nodes, nil
	}
	if !errors.Is(err, ErrUnknownCommand) {
		return nil, err
	}
	v, err = do(ctx, c, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	text, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("discovery: CLUSTER NODES: %w: a %T, not a string", ErrMalformed, v)
	}
	nodes, err := ParseClusterNodes(text)
	if err != nil {
		return nil, fmt.Errorf("discovery: CLUSTER NODES: %w", err)
	}
	return nodes, nil
}

// Sentinel lists the masters the Sentinel behind c monitors and their
// replicas. The replicas of every master are asked for in one pipeline:
// SENTINEL REPLICAS, or SLAVES on a Sentinel older than 5.0.
//
// Ports are those Sentinel uses to reach the servers; Sentinel does not say
// whether they are TLS ports (they are when it runs with tls-replication).
func Sentinel(ctx context.Context, c Client) ([]Node, error) {
	v, err := do(ctx, c, "SENTINEL", "MASTERS")
	if err != nil {
		return nil, err
	}
	masters, err := parseSentinelEntries(v, RoleMaster, "")
	if err != nil {
		return nil, fmt.Errorf("discovery: SENTINEL MASTERS: %w", err)
	}
	entries := len(masters)
	var nodes []Node
	// Every master is asked for its replicas, also one whose own address is
	// unusable.
	names := make([]string, 0, len(masters))
	for _, m := range masters {
		if m.usable {
			nodes = append(nodes, m.node)
		}
		names = append(names, m.node.MasterName)
	}
	if len(names) == 0 {
		return nodes, nil
	}
	replies, err := replicaReplies(ctx, c, names, "REPLICAS")
	if errors.Is(err, ErrUnknownCommand) {
		replies, err = replicaReplies(ctx, c, names, "SLAVES")
	}
	if err != nil {
		return nil, err
	}
	for i, v := range replies {
		replicas, err := parseSentinelEntries(v, RoleReplica, names[i])
		if err != nil {
			return nil, fmt.Errorf("discovery: SENTINEL REPLICAS: %w", err)
		}
		if entries += len(replicas); entries > MaxNodes {
			return nil, fmt.Errorf("discovery: SENTINEL REPLICAS: %w", ErrTooManyNodes)
		}
		for _, r := range replicas {
			if r.usable {
				nodes = append(nodes, r.node)
			}
		}
	}
	sortNodes(nodes)
	return nodes, nil
}

// replicaReplies sends SENTINEL <sub> <name> for every name in one pipeline
// and returns the replies in the order of names.
func replicaReplies(ctx context.Context, c Client, names []string, sub string) ([]any, error) {
	pipe := c.Pipeline()
	cmds := make([]*redis.Cmd, len(names))
	for i, name := range names {
		cmds[i] = pipe.Do(ctx, "SENTINEL", sub, name)
	}
	// Exec's error is that of the first failed command; each is looked at
	// below, so that an error reply is told from a broken connection.
	_, _ = pipe.Exec(ctx)
	replies := make([]any, len(cmds))
	for i, cmd := range cmds {
		v, err := cmd.Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, commandError("SENTINEL "+sub, err)
		default:
			replies[i] = v
		}
	}
	return replies, nil
}

// sortNodes orders nodes by master name, shard, role (master first), host,
// port: the same servers always give the same target list, so Prometheus
// sees no change between refreshes.
func sortNodes(nodes []Node) {
	slices.SortFunc(nodes, func(a, b Node) int {
		return cmp.Or(
			cmp.Compare(a.MasterName, b.MasterName),
			cmp.Compare(a.Shard, b.Shard),
			cmp.Compare(roleRank(a.Role), roleRank(b.Role)),
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port),
			cmp.Compare(a.TLSPort, b.TLSPort),
			cmp.Compare(a.NodeID, b.NodeID),
		)
	})
}

func roleRank(role string) int {
	if role == RoleMaster {
		return 0
	}
	return 1
}
