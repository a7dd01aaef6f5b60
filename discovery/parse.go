package discovery

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxField bounds ids and master names. Real ones are 40 characters (node
// and shard ids) or a short name; a longer one means the reply is not what
// it claims to be.
const maxField = 512

// ParseClusterShards parses a CLUSTER SHARDS reply: an array of shards, each a
// map (a RESP2 array of alternating keys and values, or a RESP3 map) with
// "slots", "nodes" and, on some servers, the shard "id"; each node a map with
// "id", "port", "tls-port", "ip", "endpoint", "hostname", "role", "health".
// Unknown keys are ignored.
func ParseClusterShards(reply any) ([]Node, error) {
	shards, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an array of shards", ErrMalformed, reply)
	}
	if len(shards) > MaxNodes {
		return nil, ErrTooManyNodes
	}
	var nodes []Node
	entries := 0
	for si, s := range shards {
		shard, err := fields(s)
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", si, err)
		}
		list, ok := shard["nodes"].([]any)
		if !ok {
			return nil, fmt.Errorf("%w: shard %d: no array of nodes", ErrMalformed, si)
		}
		if entries += len(list); entries > MaxNodes {
			return nil, ErrTooManyNodes
		}
		shardID, err := idField(shard, "id")
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", si, err)
		}
		members := make([]Node, 0, len(list))
		usable := make([]bool, 0, len(list))
		for ni, n := range list {
			node, err := fields(n)
			if err != nil {
				return nil, fmt.Errorf("shard %d: node %d: %w", si, ni, err)
			}
			id, err := idField(node, "id")
			if err != nil {
				return nil, fmt.Errorf("shard %d: node %d: %w", si, ni, err)
			}
			m := Node{
				NodeID:   id,
				Port:     port(node["port"]),
				TLSPort:  port(node["tls-port"]),
				IP:       onlyIP(announced(node["ip"])),
				Hostname: announced(node["hostname"]),
				Role:     RoleMaster,
				Health:   shardHealth(node["health"]),
			}
			if role, _ := node["role"].(string); isReplicaRole(role) {
				m.Role = RoleReplica
			}
			m.Host = hostForShards(announced(node["endpoint"]), m.Hostname, announced(node["ip"]))
			members = append(members, m)
			usable = append(usable, m.Host != "" && (m.Port != 0 || m.TLSPort != 0))
		}
		if shardID == "" {
			shardID = shardOf(members)
		}
		for i, m := range members {
			if usable[i] {
				m.Shard = shardID
				nodes = append(nodes, m)
			}
		}
	}
	sortNodes(nodes)
	return nodes, nil
}

// hostForShards chooses the address Prometheus should scrape: the node's
// "endpoint", else its announced host name, else its IP.
//
// The endpoint is what the cluster tells every client to connect to
// (cluster-preferred-endpoint-type: the IP by default, the host name when
// the operator chose names, "?" when clients must keep using the address
// they have): it is the address known to be reachable, and to match the TLS
// certificates, in this deployment. A host name announced next to an IP
// endpoint is not used by any client, may not resolve from the exporter, and
// is chosen by the node alone; it stays in Node.Hostname for labels.
// The arguments are cleaned already (see announced), so "?" is "".
func hostForShards(endpoint, hostname, ip string) string {
	return cmp.Or(endpoint, hostname, ip)
}

// shardOf names a shard without a shard id after its master, or after the
// smallest node id when it has no master.
func shardOf(members []Node) string {
	id := ""
	for _, m := range members {
		if m.Role == RoleMaster && m.NodeID != "" {
			return m.NodeID
		}
		if m.NodeID != "" && (id == "" || m.NodeID < id) {
			id = m.NodeID
		}
	}
	return id
}

func isReplicaRole(role string) bool {
	switch strings.ToLower(role) {
	case "replica", "slave":
		return true
	}
	return false
}

// shardHealth maps the node "health" of CLUSTER SHARDS. Redis sends "fail"
// although its documentation says "failed".
func shardHealth(v any) string {
	s, _ := v.(string)
	switch strings.ToLower(s) {
	case "online":
		return "online"
	case "fail", "failed":
		return "failed"
	case "loading":
		return "loading"
	}
	return "unknown"
}

// ParseClusterNodes parses the text of CLUSTER NODES, one node a line:
//
//	<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
//
// An IPv6 address appears without brackets (::1:7000@17000): the port follows
// the last colon. Nodes flagged handshake or noaddr are left out; fail and
// fail? give Health "failed".
func ParseClusterNodes(text string) ([]Node, error) {
	var nodes []Node
	entries := 0
	for lineNo := 1; text != ""; lineNo++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if entries++; entries > MaxNodes {
			return nil, ErrTooManyNodes
		}
		n, ok, err := parseNodesLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if ok {
			nodes = append(nodes, n)
		}
	}
	sortNodes(nodes)
	return nodes, nil
}

// parseNodesLine parses one line of CLUSTER NODES; ok is false for a node
// to leave out.
func parseNodesLine(line string) (n Node, ok bool, err error) {
	// Only the first 8 fields matter; the slots can be thousands.
	f := strings.SplitN(line, " ", 9)
	if len(f) < 8 {
		return Node{}, false, fmt.Errorf("%w: %d fields, want at least 8", ErrMalformed, len(f))
	}
	for _, field := range f[:8] {
		if field == "" {
			return Node{}, false, fmt.Errorf("%w: empty field", ErrMalformed)
		}
	}
	id, master, addr, flags := f[0], f[3], f[1], f[2]
	if len(id) > maxField || len(master) > maxField {
		return Node{}, false, fmt.Errorf("%w: bad node id", ErrMalformed)
	}
	n.NodeID = strings.ToValidUTF8(id, "\uFFFD")
	n.Role, n.Health = RoleMaster, "online"
	for _, flag := range strings.Split(flags, ",") {
		switch flag {
		case "handshake", "noaddr":
			return Node{}, false, nil
		case "slave", "replica":
			n.Role = RoleReplica
		case "fail", "fail?":
			n.Health = "failed"
		}
	}
	// 7.0 appends ",<hostname>" to the address; nodes.conf of 7.2+ also
	// has ",key=value" fields (shard-id=...), which a server may show too.
	addr, aux, _ := strings.Cut(addr, ",")
	shardID := ""
	for i := 0; aux != ""; i++ {
		var a string
		a, aux, _ = strings.Cut(aux, ",")
		if k, v, ok := strings.Cut(a, "="); ok {
			if k == "shard-id" && len(v) <= maxField {
				shardID = strings.ToValidUTF8(v, "\uFFFD")
			}
		} else if i == 0 {
			n.Hostname = cleanHost(a)
		}
	}
	hostPort, _, _ := strings.Cut(addr, "@")
	ip := ""
	if i := strings.LastIndexByte(hostPort, ':'); i >= 0 {
		ip = cleanHost(hostPort[:i])
		n.Port = port(hostPort[i+1:])
	}
	n.IP = onlyIP(ip)
	// NODES has no endpoint: the IP is what clients are redirected to by
	// default (see hostForShards), the host name only stands in for a
	// missing one.
	n.Host = cmp.Or(ip, n.Hostname)
	if n.Host == "" || n.Port == 0 {
		return Node{}, false, nil
	}
	n.Shard = n.NodeID
	if n.Role == RoleReplica && master != "-" && master != "" {
		n.Shard = strings.ToValidUTF8(master, "\uFFFD")
	}
	if shardID != "" {
		n.Shard = shardID
	}
	return n, true, nil
}

// sentinelEntry is one server of a SENTINEL MASTERS or REPLICAS reply;
// usable is false when it has no address to scrape.
type sentinelEntry struct {
	node   Node
	usable bool
}

// ParseSentinelServers parses a SENTINEL MASTERS (role "master") or SENTINEL
// REPLICAS <master> (role "replica") reply: an array of maps (RESP2 arrays
// of alternating keys and values, or RESP3 maps) with "name", "ip", "port"
// and "flags". MasterName is master, or for masters with master "" the
// entry's "name".
func ParseSentinelServers(reply any, role string, master string) ([]Node, error) {
	entries, err := parseSentinelEntries(reply, role, master)
	if err != nil {
		return nil, err
	}
	var nodes []Node
	for _, e := range entries {
		if e.usable {
			nodes = append(nodes, e.node)
		}
	}
	sortNodes(nodes)
	return nodes, nil
}

func parseSentinelEntries(reply any, role string, master string) ([]sentinelEntry, error) {
	if role != RoleMaster && role != RoleReplica {
		return nil, fmt.Errorf("role %q: want %q or %q", role, RoleMaster, RoleReplica)
	}
	if len(master) > maxField {
		return nil, fmt.Errorf("%w: master name longer than %d bytes", ErrMalformed, maxField)
	}
	list, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an array", ErrMalformed, reply)
	}
	if len(list) > MaxNodes {
		return nil, ErrTooManyNodes
	}
	entries := make([]sentinelEntry, 0, len(list))
	for i, v := range list {
		m, err := fields(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		// Sentinel keeps what the server announced (replica-announce-ip)
		// or, with resolve-hostnames, the host name it was given.
		host := announced(m["ip"])
		n := Node{
			Host:       host,
			Role:       role,
			MasterName: master,
			IP:         onlyIP(host),
			Port:       port(m["port"]),
			Health:     sentinelHealth(m["flags"]),
		}
		if n.IP == "" {
			n.Hostname = host
		}
		if n.MasterName == "" {
			name, _ := m["name"].(string)
			if name == "" || len(name) > maxField {
				return nil, fmt.Errorf("%w: entry %d: no usable master name", ErrMalformed, i)
			}
			n.MasterName = name
		}
		n.MasterName = strings.ToValidUTF8(n.MasterName, "\uFFFD")
		entries = append(entries, sentinelEntry{node: n, usable: n.Host != "" && n.Port != 0})
	}
	return entries, nil
}

// sentinelHealth maps Sentinel's flags: objectively down beats subjectively
// down beats a lost link.
func sentinelHealth(v any) string {
	s, _ := v.(string)
	health := "ok"
	for _, flag := range strings.Split(s, ",") {
		switch flag {
		case "o_down":
			return "odown"
		case "s_down":
			health = "sdown"
		case "disconnected":
			if health == "ok" {
				health = "disconnected"
			}
		}
	}
	return health
}

// fields reads a map of a reply: a RESP2 array of alternating keys and
// values, or a RESP3 map. A key seen twice keeps its last value.
func fields(v any) (map[string]any, error) {
	switch v := v.(type) {
	case []any:
		if len(v)%2 != 0 {
			return nil, fmt.Errorf("%w: odd number of elements (%d) in a map", ErrMalformed, len(v))
		}
		m := make(map[string]any, len(v)/2)
		for i := 0; i < len(v); i += 2 {
			k, ok := v[i].(string)
			if !ok {
				return nil, fmt.Errorf("%w: a map key is a %T", ErrMalformed, v[i])
			}
			m[strings.ToLower(k)] = v[i+1]
		}
		return m, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, val := range v {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%w: a map key is a %T", ErrMalformed, k)
			}
			m[strings.ToLower(ks)] = val
		}
		return m, nil
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, val := range v {
			m[strings.ToLower(k)] = val
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: a %T, not a map", ErrMalformed, v)
}

// idField returns an optional id: "" when missing, an error when it is not a
// string or longer than any real id.
func idField(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s is a %T", ErrMalformed, key, v)
	}
	if len(s) > maxField {
		return "", fmt.Errorf("%w: %s longer than %d bytes", ErrMalformed, key, maxField)
	}
	return strings.ToValidUTF8(s, "\uFFFD"), nil
}

// announced returns a string field that names an address, cleaned (see
// cleanHost): "" when missing or unusable.
func announced(v any) string {
	s, _ := v.(string)
	return cleanHost(s)
}

// onlyIP returns a cleaned host when it is an IP, else "".
func onlyIP(host string) string {
	if _, err := netip.ParseAddr(host); err != nil {
		return ""
	}
	return host
}

// port reads a port, a RESP integer or a decimal string; anything outside
// 1..65535 is no port.
func port(v any) int {
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case string:
		var err error
		if n, err = strconv.ParseInt(v, 10, 32); err != nil {
			return 0
		}
	default:
		return 0
	}
	if n < 1 || n > 65535 {
		return 0
	}
	return int(n)
}

// cleanHost returns h when it is an IP address (brackets removed) or a
// syntactically valid host name, else "". An announced address is chosen by
// the server that announces it; one with spaces, slashes or an extra colon
// would not be a scrapable host:port, and could smuggle more into the
// target than a host.
func cleanHost(h string) string {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if h == "" || len(h) > 253 {
		return ""
	}
	if a, err := netip.ParseAddr(h); err == nil {
		// A zone (fe80::1%eth0) is free text and names an interface of the
		// announcing host, not of the exporter's.
		if a.Zone() != "" {
			return ""
		}
		// Unmapped, so that ::ffff:10.0.0.1 meets the allowlist as 10.0.0.1.
		return a.Unmap().String()
	}
	if isHostname(h) {
		return h
	}
	return ""
}

// isHostname accepts dot-separated labels of letters, digits, '-' and '_'
// (which container platforms put in names), with an optional final dot. An
// all-digit or 0x-hex last label is refused: no top-level domain is
// numeric, and inet_aton-style resolvers (getaddrinfo) read "10.1",
// "167772161" or "0x7f000001" as IPs, which an allowlist of networks would
// not see coming.
func isHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return false
	}
	labels := strings.Split(h, ".")
	last := strings.ToLower(labels[len(labels)-1])
	if strings.Trim(last, "0123456789") == "" ||
		strings.HasPrefix(last, "0x") && strings.Trim(last[2:], "0123456789abcdef") == "" {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
