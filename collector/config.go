package collector

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/netclass"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

var (
	protectedModeDesc = newDesc("protected_mode_enabled",
		"1 if protected-mode is yes.")
	bindAllDesc = newDesc("bind_all_interfaces",
		"1 if a TCP or TLS listener binds a wildcard address (*, 0.0.0.0, ::, or no bind on 6.x).")
	bindNonLoopbackDesc = newDesc("bind_non_loopback",
		"1 if any TCP or TLS listener is reachable beyond loopback.")
	unixsocketPermDesc = newDesc("unixsocket_permissions",
		"unixsocketperm as a number (0770 = 504); 0 = the server's umask decides. Only when unixsocket is set.")
	unixsocketWorldDesc = newDesc("unixsocket_world_accessible",
		"1 if others may read or write the unix socket (unixsocketperm & 0006). Omitted when unixsocketperm is 0.")
	tlsEnabledDesc = newDesc("tls_enabled",
		"1 if tls-port > 0 (a build without TLS support reports 0).")
	plaintextEnabledDesc = newDesc("plaintext_enabled",
		"1 if the plaintext port is open (port > 0).")
	tlsClientAuthDesc = newDesc("tls_client_auth",
		"1 for the configured tls-auth-clients mode.", "mode")
	tlsClientCertUserDesc = newDesc("tls_client_certificate_user_field",
		"1 for the configured tls-auth-clients-user (Valkey 9+): off, or the certificate field (CN, URI) whose value logs a client in as the ACL user of that name, without a password.", "field")
	tlsProtocolDesc = newDesc("tls_protocol_enabled",
		"1 if tls-protocols allows the protocol (empty = TLSv1.2 and TLSv1.3).", "protocol")
	tlsReplicationDesc = newDesc("tls_replication_enabled",
		"1 if tls-replication is yes.")
	tlsClusterDesc = newDesc("tls_cluster_enabled",
		"1 if tls-cluster is yes.")
	outputBufferLimitDesc = newDesc("client_output_buffer_limit_bytes",
		"client-output-buffer-limit per client class; 0 = unlimited.", "class", "limit")
	outputBufferSoftSecondsDesc = newDesc("client_output_buffer_limit_soft_seconds",
		"Seconds a client may stay over the soft output buffer limit.", "class")
	queryBufferLimitDesc = newDesc("client_query_buffer_limit_bytes",
		"client-query-buffer-limit.")
	protoMaxBulkLenDesc = newDesc("proto_max_bulk_len_bytes",
		"proto-max-bulk-len: largest single request element.")
	idleTimeoutDesc = newDesc("idle_timeout_seconds",
		"timeout: idle clients are disconnected after this many seconds; 0 = never.")
	tcpKeepaliveDesc = newDesc("tcp_keepalive_seconds",
		"tcp-keepalive; 0 = off.")
	maxmemoryDesc = newDesc("maxmemory_bytes",
		"maxmemory; 0 = unlimited.")
	maxmemoryClientsDesc = newDesc("maxmemory_clients_bytes",
		"maxmemory-clients (7.0+), percentages resolved against maxmemory; 0 = unlimited.")
	enableConfigDesc = newDesc("enable_config",
		"1 for the current value of enable-debug-command, enable-module-command and enable-protected-configs (6.x has no such settings and behaves as yes).",
		"setting", "value")
	persistencePathDesc = newDesc("persistence_path_info",
		"Where the server writes its dump (dir, dbfilename); a change is an event worth alerting on. Always 1.",
		"dir", "dbfilename")
	replicaReadOnlyDesc = newDesc("replica_read_only",
		"1 if replica-read-only is yes (a replica refuses writes from clients).")
	persistencePathSuspiciousDesc = newDesc("persistence_path_suspicious",
		"1 if dir/dbfilename point at .ssh, authorized_keys, cron, /etc, web roots, *.php, *.so ... (the CONFIG SET dir attack).")
)

// enableSettings are the 7.0+ gates of dangerous features.
var enableSettings = []string{"enable-debug-command", "enable-module-command", "enable-protected-configs"}

// tlsProtocols are the protocol label values.
var tlsProtocols = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

// configParams are the parameters the config collector reads: exact names
// only, never a glob (a glob such as tls-* returns tls-key-file-pass).
var configParams = []string{
	"bind", "port", "tls-port", "protected-mode", "unixsocket", "unixsocketperm",
	"tls-auth-clients", "tls-auth-clients-user", "tls-protocols", "tls-replication", "tls-cluster",
	"client-output-buffer-limit", "client-query-buffer-limit", "proto-max-bulk-len",
	"timeout", "tcp-keepalive", "maxmemory", "maxmemory-clients",
	"enable-debug-command", "enable-module-command", "enable-protected-configs",
	"dir", "dbfilename", "replica-read-only",
}

// Config collects network exposure, TLS settings, resource limits and the
// persistence path from CONFIG GET.
type Config struct{}

// Name implements Scraper.
func (Config) Name() string { return "config" }

// Help implements Scraper.
func (Config) Help() string {
	return "Collect protected mode, binds, listeners, unix socket, TLS settings, buffer and resource limits, enable-* gates and the persistence path from CONFIG GET (named parameters only)."
}

// Plan implements Scraper.
func (Config) Plan(p *Plan) {
	p.Config(configParams...)
	// INFO has maxclients from 6.2 on; before, only CONFIG does.
	if f := p.Facts(); !f.Known || !f.Server.CompatVersion.AtLeast(6, 2) {
		p.Config("maxclients")
	}
}

// Describe implements Scraper.
func (Config) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{protectedModeDesc, bindAllDesc, bindNonLoopbackDesc, unixsocketPermDesc,
		unixsocketWorldDesc, tlsEnabledDesc, plaintextEnabledDesc, tlsClientAuthDesc, tlsClientCertUserDesc, tlsProtocolDesc,
		tlsReplicationDesc, tlsClusterDesc, outputBufferLimitDesc, outputBufferSoftSecondsDesc,
		queryBufferLimitDesc, protoMaxBulkLenDesc, idleTimeoutDesc, tcpKeepaliveDesc, maxmemoryDesc,
		maxmemoryClientsDesc, enableConfigDesc, persistencePathDesc, persistencePathSuspiciousDesc,
		listenerDesc, maxclientsDesc, replicaReadOnlyDesc} {
		ch <- d
	}
}

// configReader reads parameters and collects the first error per problem, so
// that one bad value costs one metric, not the whole collector.
type configReader struct {
	r    *Replies
	errs []error
	seen map[string]bool // root errors already reported
}

func (c *configReader) get(name string) (string, bool) {
	v, ok, err := c.r.Config(name)
	if err != nil {
		// Before 7.0 each parameter has its own CONFIG GET: one denial
		// would otherwise be reported once per parameter.
		root := errors.Unwrap(err)
		if root == nil {
			root = err
		}
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		if !c.seen[root.Error()] {
			c.seen[root.Error()] = true
			c.errs = append(c.errs, err)
		}
		return "", false
	}
	return v, ok
}

func (c *configReader) fail(name string, err error) {
	c.errs = append(c.errs, fmt.Errorf("CONFIG %s: %w", name, err))
}

// number reads a numeric parameter with parse and emits it to d.
func (c *configReader) number(e emitter, d *prometheus.Desc, name string, parse func(string) (float64, error)) (float64, bool) {
	v, ok := c.get(name)
	if !ok {
		return 0, false
	}
	n, err := parse(v)
	if err != nil {
		c.fail(name, err)
		return 0, false
	}
	if d != nil {
		e.gauge(d, n)
	}
	return n, true
}

func (c *configReader) yesNo(e emitter, d *prometheus.Desc, name string) (bool, bool) {
	v, ok := c.get(name)
	if !ok {
		return false, false
	}
	b, err := parseYesNo(v)
	if err != nil {
		c.fail(name, err)
		return false, false
	}
	e.gauge(d, boolValue(b))
	return b, true
}

// Scrape implements Scraper.
func (Config) Scrape(r *Replies, send Send, _ log.Logger) error {
	e := r.emitter(send)
	c := &configReader{r: r}
	facts := r.Facts()

	c.yesNo(e, protectedModeDesc, "protected-mode")

	if net, err := readNetwork(r); err != nil {
		c.errs = append(c.errs, err)
	} else {
		e.gauge(bindAllDesc, boolValue(net.bindAll()))
		e.gauge(bindNonLoopbackDesc, boolValue(net.nonLoopback()))
		e.gauge(plaintextEnabledDesc, boolValue(net.port > 0))
		e.gauge(tlsEnabledDesc, boolValue(net.tlsPort > 0))
		// INFO lists listeners from 7.2 on; before, derive them from CONFIG.
		if in, err := r.Info(); err != nil || !hasListeners(in) {
			for _, l := range dedupe(net.listeners()) {
				e.gauge(listenerDesc, 1, l.Transport, l.Address, l.Port)
			}
		}
	}

	if sock, ok := c.get("unixsocket"); ok && sock != "" {
		if v, ok := c.get("unixsocketperm"); ok {
			if perm, err := parseOctal(v); err != nil {
				c.fail("unixsocketperm", err)
			} else {
				e.gauge(unixsocketPermDesc, float64(perm))
				if perm != 0 {
					e.gauge(unixsocketWorldDesc, boolValue(perm&0o006 != 0))
				}
			}
		}
	}

	if v, ok := c.get("tls-auth-clients"); ok {
		mode := strings.ToLower(v)
		if mode != "yes" && mode != "no" && mode != "optional" {
			c.fail("tls-auth-clients", fmt.Errorf("unknown mode %q", v))
		} else {
			for _, m := range []string{"yes", "optional", "no"} {
				e.gauge(tlsClientAuthDesc, boolValue(m == mode), m)
			}
		}
	}
	// Valkey 9 can log a client in by a field of its verified certificate;
	// servers without the setting report nothing.
	if v, ok := c.get("tls-auth-clients-user"); ok {
		field := strings.ToLower(v)
		values := map[string]string{"off": "off", "cn": "CN", "uri": "URI"}
		if _, known := values[field]; !known {
			c.fail("tls-auth-clients-user", fmt.Errorf("unknown value %q", v))
		} else {
			for _, f := range []string{"off", "cn", "uri"} {
				e.gauge(tlsClientCertUserDesc, boolValue(f == field), values[f])
			}
		}
	}
	if v, ok := c.get("tls-protocols"); ok {
		enabled, err := parseTLSProtocols(v)
		if err != nil {
			c.fail("tls-protocols", err)
		} else {
			for _, p := range tlsProtocols {
				e.gauge(tlsProtocolDesc, boolValue(enabled[p]), p)
			}
		}
	}
	c.yesNo(e, tlsReplicationDesc, "tls-replication")
	c.yesNo(e, tlsClusterDesc, "tls-cluster")
	c.yesNo(e, replicaReadOnlyDesc, "replica-read-only")

	if v, ok := c.get("client-output-buffer-limit"); ok {
		limits, err := parseOutputBufferLimits(v)
		if err != nil {
			c.fail("client-output-buffer-limit", err)
		}
		for _, l := range dedupe(limits) {
			e.gauge(outputBufferLimitDesc, l.hard, l.class, "hard")
			e.gauge(outputBufferLimitDesc, l.soft, l.class, "soft")
			e.gauge(outputBufferSoftSecondsDesc, l.softS, l.class)
		}
	}
	c.number(e, queryBufferLimitDesc, "client-query-buffer-limit", parseMemory)
	c.number(e, protoMaxBulkLenDesc, "proto-max-bulk-len", parseMemory)
	c.number(e, idleTimeoutDesc, "timeout", parseInteger)
	c.number(e, tcpKeepaliveDesc, "tcp-keepalive", parseInteger)
	maxmemory, maxmemoryOK := c.number(e, maxmemoryDesc, "maxmemory", parseMemory)
	if v, ok := c.get("maxmemory-clients"); ok {
		if strings.HasSuffix(strings.TrimSpace(v), "%") && !maxmemoryOK {
			c.fail("maxmemory-clients", errors.New("percentage without a readable maxmemory"))
		} else if n, err := parseMaxmemoryClients(v, maxmemory); err != nil {
			c.fail("maxmemory-clients", err)
		} else {
			e.gauge(maxmemoryClientsDesc, n)
		}
	}
	// maxclients comes from INFO from 6.2 on (info collector).
	// Before, it is requested here; when it was not requested, get finds nothing.
	if in, err := r.Info(); err != nil || !hasField(in, "maxclients") {
		c.number(e, maxclientsDesc, "maxclients", parseInteger)
	}

	for _, s := range enableSettings {
		v, ok := c.get(s)
		switch {
		case ok:
			v = strings.ToLower(v)
			if v != "yes" && v != "no" && v != "local" {
				c.fail(s, fmt.Errorf("unknown value %q", v))
				continue
			}
		case facts.Known && !facts.Server.CompatVersion.AtLeast(7, 0):
			v = "yes" // 6.x has no gate: DEBUG, MODULE and every config are open
		default:
			continue
		}
		for _, val := range []string{"no", "local", "yes"} {
			e.gauge(enableConfigDesc, boolValue(val == v), s, val)
		}
	}

	dir, okDir := c.get("dir")
	dbfilename, okFile := c.get("dbfilename")
	if okDir && okFile {
		e.gauge(persistencePathDesc, 1, dir, dbfilename)
		e.gauge(persistencePathSuspiciousDesc, boolValue(persistencePathSuspicious(dir, dbfilename)))
	}
	return errors.Join(c.errs...)
}

func hasListeners(in *redisinfo.Info) bool {
	_, ok := in.Listeners()
	return ok
}

func hasField(in *redisinfo.Info, name string) bool {
	_, ok := in.Get(name)
	return ok
}

// parseTLSProtocols parses tls-protocols; empty means TLSv1.2 and TLSv1.3.
func parseTLSProtocols(v string) (map[string]bool, error) {
	out := map[string]bool{}
	f := strings.Fields(v)
	if len(f) == 0 {
		f = []string{"TLSv1.2", "TLSv1.3"}
	}
	for _, p := range f {
		found := false
		for _, known := range tlsProtocols {
			if strings.EqualFold(p, known) {
				out[known], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown protocol %q", p)
		}
	}
	return out, nil
}

// network is the listening configuration from CONFIG.
type network struct {
	binds         []string // as configured; empty on 6.x means every interface
	addrs         []string // bindAddrs, read only
	port, tlsPort int
	unixsocket    string
}

// readNetwork reads bind, port, tls-port and unixsocket. tls-port is absent
// on builds without TLS support, which is the same as 0.
func readNetwork(r *Replies) (network, error) {
	var n network
	bind, ok, err := r.Config("bind")
	if err != nil {
		return n, err
	}
	if !ok {
		return n, errors.New("CONFIG GET bind returned nothing")
	}
	n.binds = strings.Fields(bind)
	n.addrs = bindAddrs(n.binds)
	portStr, ok, err := r.Config("port")
	if err != nil {
		return n, err
	}
	if !ok {
		return n, errors.New("CONFIG GET port returned nothing")
	}
	if n.port, err = strconv.Atoi(portStr); err != nil || n.port < 0 {
		return n, fmt.Errorf("CONFIG port %q is not a port number", portStr)
	}
	if tls, ok, err := r.Config("tls-port"); err != nil {
		return n, err
	} else if ok {
		if n.tlsPort, err = strconv.Atoi(tls); err != nil || n.tlsPort < 0 {
			return n, fmt.Errorf("CONFIG tls-port %q is not a port number", tls)
		}
	}
	if sock, ok, err := r.Config("unixsocket"); err == nil && ok {
		n.unixsocket = sock
	}
	return n, nil
}

// bindAddrs returns the bind addresses in effect (read only); an empty
// bind (6.x default) listens on every IPv4 and IPv6 interface.
func bindAddrs(binds []string) []string {
	if len(binds) == 0 {
		return everyInterface
	}
	if !slices.ContainsFunc(binds, func(b string) bool { return strings.HasPrefix(b, "-") }) {
		return binds
	}
	out := make([]string, len(binds))
	for i, b := range binds {
		out[i] = strings.TrimPrefix(b, "-")
	}
	return out
}

var everyInterface = []string{"*", "::*"}

func (n network) bindAddrs() []string { return n.addrs }

func (n network) tcpOpen() bool { return n.port > 0 || n.tlsPort > 0 }

func (n network) bindAll() bool {
	if !n.tcpOpen() {
		return false
	}
	for _, b := range n.bindAddrs() {
		if netclass.IsWildcardBind(b) {
			return true
		}
	}
	return false
}

func (n network) nonLoopback() bool {
	if !n.tcpOpen() {
		return false
	}
	for _, b := range n.bindAddrs() {
		if netclass.BindReachableBeyondLoopback(b) {
			return true
		}
	}
	return false
}

func (n network) listeners() []redisinfo.Listener {
	var out []redisinfo.Listener
	for _, p := range []struct {
		transport string
		port      int
	}{{"tcp", n.port}, {"tls", n.tlsPort}} {
		if p.port <= 0 {
			continue
		}
		for _, b := range n.bindAddrs() {
			out = append(out, redisinfo.Listener{Transport: p.transport, Address: b, Port: strconv.Itoa(p.port)})
		}
	}
	if n.unixsocket != "" {
		out = append(out, redisinfo.Listener{Transport: "unix", Address: n.unixsocket})
	}
	return out
}
