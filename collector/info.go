package collector

import (
	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/collector/internal/vuln"
)

var (
	serverInfoDesc = newDesc("server_info",
		"Server identity: flavor (redis/valkey), the flavor's own version (valkey_version on Valkey), role and mode. Always 1.",
		"flavor", "version", "role", "mode")
	authFailuresDesc = newDesc("auth_failures_total",
		"Failed AUTH/HELLO attempts as the server counts them: acl_access_denied_auth (7.2+), else errorstat_WRONGPASS (6.2+).")
	aclDeniedDesc = newDesc("acl_denied_total",
		"Commands, keys, channels and authentications refused by ACL (INFO acl_access_denied_*, Redis/Valkey 7.2+).",
		"reason")
	errorRepliesDesc = newDesc("error_replies_total",
		"Security-relevant error replies from INFO errorstats (6.2+): NOAUTH = commands sent before authenticating, WRONGPASS = failed AUTH, NOPERM = ACL denials. Reset by CONFIG RESETSTAT.",
		"error")
	rejectedConnectionsDesc = newDesc("rejected_connections_total",
		"Connections rejected because of maxclients or protected mode.")
	connectionsReceivedDesc = newDesc("connections_received_total",
		"Connections accepted by the server.")
	connectedClientsDesc = newDesc("connected_clients",
		"Client connections open now (replicas excluded).")
	maxclientsDesc = newDesc("maxclients",
		"Maximum number of client connections (maxclients).")
	clientRecentMaxBufferDesc = newDesc("client_recent_max_buffer_bytes",
		"Largest client input or output buffer in recent seconds (a client hoarding memory).",
		"buffer")
	clientBufferLimitDisconnectionsDesc = newDesc("client_buffer_limit_disconnections_total",
		"Clients disconnected for exceeding the query or output buffer limit (7.4+).",
		"buffer")
	evictedClientsDesc = newDesc("evicted_clients_total",
		"Clients evicted because of maxmemory-clients (7.0+).")
	moduleInfoDesc = newDesc("module_info",
		"A loaded module; an unexpected module is an indicator of compromise. Always 1.",
		"name", "version")
	replicationSourceDesc = newDesc("replication_source_info",
		"The master this replica replicates from; a rogue REPLICAOF is a known attack. Always 1.",
		"master_host", "master_port")
	vulnerabilityDesc = newDesc("vulnerability",
		"1 per known CVE whose fix is newer than the server's version on its release branch (the table in collector/internal/vuln; Valkey matched on valkey_version). An upper bound: distributions backport fixes without changing the version.",
		"cve", "severity")
	knownVulnerabilitiesDesc = newDesc("known_vulnerabilities",
		"Number of known CVEs affecting the server's version, per severity (an upper bound, see redis_security_vulnerability).", "severity")
	versionEndOfLifeDesc = newDesc("version_end_of_life",
		"1 when the server's release branch gets no more security fixes; omitted for branches the exporter does not know.")
	listenerDesc = newDesc("listener",
		"A listening endpoint (INFO listener lines on 7.2+, CONFIG bind/port/tls-port/unixsocket before). Always 1.",
		"transport", "address", "port")
)

// aclDeniedReasons maps INFO fields to the reason label.
var aclDeniedReasons = []struct{ field, reason string }{
	{"acl_access_denied_auth", "auth"},
	{"acl_access_denied_cmd", "command"},
	{"acl_access_denied_key", "key"},
	{"acl_access_denied_channel", "channel"},
	{"acl_access_denied_tls_cert", "tls_cert"},
	{"acl_access_denied_db", "database"}, // Valkey 9: per-database ACL rules (ACL LOG reason "database")
}

// securityErrorCodes are the errorstats codes exported.
var securityErrorCodes = []string{"NOAUTH", "WRONGPASS", "NOPERM"}

// Info collects identity, auth and ACL counters, connection counters,
// modules and replication source from INFO, and matches the version against
// the vulnerability table.
type Info struct {
	// Vulnerabilities is the table versions are matched against; nil is the
	// embedded one.
	Vulnerabilities *VulnerabilityTable
}

func (i Info) table() *vuln.Table {
	if i.Vulnerabilities == nil {
		return vuln.Embedded()
	}
	return i.Vulnerabilities
}

// Name implements Scraper.
func (Info) Name() string { return "info" }

// Help implements Scraper.
func (Info) Help() string {
	return "Collect identity, AUTH/ACL failure counters, connections, modules, replication source and listeners from INFO."
}

// Plan implements Scraper; INFO is part of every plan.
func (Info) Plan(*Plan) {}

// Describe implements Scraper.
func (Info) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{serverInfoDesc, authFailuresDesc, aclDeniedDesc, errorRepliesDesc,
		rejectedConnectionsDesc, connectionsReceivedDesc, connectedClientsDesc, maxclientsDesc,
		clientRecentMaxBufferDesc, clientBufferLimitDisconnectionsDesc, evictedClientsDesc,
		moduleInfoDesc, replicationSourceDesc, listenerDesc, vulnerabilityDesc, knownVulnerabilitiesDesc, versionEndOfLifeDesc} {
		ch <- d
	}
}

// Scrape implements Scraper.
func (i Info) Scrape(r *Replies, send Send, _ log.Logger) error {
	e := r.emitter(send)
	in, err := r.Info()
	if err != nil {
		return err
	}
	srv := r.Facts().Server
	e.gauge(serverInfoDesc, 1, string(srv.Flavor), srv.Version.String(), srv.Role, srv.Mode)
	vulnerabilities(e, i.table(), srv, r.state)

	// auth failures: the most precise source the server has.
	if v, ok := in.Float("acl_access_denied_auth"); ok {
		e.counter(authFailuresDesc, v)
	} else if v, ok := in.ErrorCount("WRONGPASS"); ok {
		e.counter(authFailuresDesc, v)
	}
	for _, d := range aclDeniedReasons {
		if v, ok := in.Float(d.field); ok {
			e.counter(aclDeniedDesc, v, d.reason)
		}
	}
	for _, code := range securityErrorCodes {
		if v, ok := in.ErrorCount(code); ok {
			e.counter(errorRepliesDesc, v, code)
		}
	}

	counters := []struct {
		field string
		desc  *prometheus.Desc
		label []string
	}{
		{"rejected_connections", rejectedConnectionsDesc, nil},
		{"total_connections_received", connectionsReceivedDesc, nil},
		{"client_query_buffer_limit_disconnections", clientBufferLimitDisconnectionsDesc, []string{"query"}},
		{"client_output_buffer_limit_disconnections", clientBufferLimitDisconnectionsDesc, []string{"output"}},
		{"evicted_clients", evictedClientsDesc, nil},
	}
	for _, c := range counters {
		if v, ok := in.Float(c.field); ok {
			e.counter(c.desc, v, c.label...)
		}
	}
	gauges := []struct {
		field string
		desc  *prometheus.Desc
		label []string
	}{
		{"connected_clients", connectedClientsDesc, nil},
		{"maxclients", maxclientsDesc, nil},
		{"client_recent_max_input_buffer", clientRecentMaxBufferDesc, []string{"input"}},
		{"client_recent_max_output_buffer", clientRecentMaxBufferDesc, []string{"output"}},
	}
	for _, g := range gauges {
		if v, ok := in.Float(g.field); ok {
			e.gauge(g.desc, v, g.label...)
		}
	}

	if mods, ok := in.Modules(); ok {
		for _, m := range dedupe(mods) {
			e.gauge(moduleInfoDesc, 1, m.Name, m.Version)
		}
	}
	if srv.Role == "replica" {
		host, _ := in.Get("master_host")
		port, _ := in.Get("master_port")
		e.gauge(replicationSourceDesc, 1, host, port)
	}
	if ls, ok := in.Listeners(); ok {
		for _, l := range dedupe(ls) {
			e.gauge(listenerDesc, 1, l.Transport, l.Address, l.Port)
		}
	}
	return nil
}

// vulnMatches are the CVEs a table matched for a version.
type vulnMatches struct {
	table   *vuln.Table
	flavor  redisinfo.Flavor
	version redisinfo.Version
	hits    []vulnHit
}

type vulnHit struct{ id, severity string }

// vulnerabilities reports the known CVEs and end of life of the version.
func vulnerabilities(e emitter, table *vuln.Table, srv redisinfo.Server, st *State) {
	// The matches depend only on the table and the version: a target's
	// are kept (in its state) until either changes.
	m := &vulnMatches{}
	if st != nil {
		m = &st.vulns
	}
	if m.table != table || m.flavor != srv.Flavor || m.version != srv.Version {
		*m = vulnMatches{table: table, flavor: srv.Flavor, version: srv.Version}
		for _, v := range table.MatchServer(srv) {
			m.hits = append(m.hits, vulnHit{id: v.ID, severity: string(v.Severity)})
		}
	}
	for _, h := range m.hits {
		e.gauge(vulnerabilityDesc, 1, h.id, h.severity)
	}
	for _, s := range vuln.Severities {
		n := 0
		for _, h := range m.hits {
			if h.severity == string(s) {
				n++
			}
		}
		e.gauge(knownVulnerabilitiesDesc, float64(n), string(s))
	}
	if eol, known := table.EndOfLife(srv.Flavor, srv.Version); known {
		e.gauge(versionEndOfLifeDesc, boolValue(eol))
	}
}
