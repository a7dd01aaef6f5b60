package collector

import (
	"strings"

	"github.com/redis-security/redis_security_exporter/collector/internal/acllog"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// State is what the collectors remember about one target between scrapes:
// counters the exporter maintains (ACL LOG events) and caches of what only
// changes on restart or ACL change (command availability, per-user command
// permissions). A target is scraped by one goroutine at a time (the exporter
// shares one in-flight scrape), so State needs no lock.
type State struct {
	// acllogMaxLen is the server's acllog-max-len from the last scrape (0:
	// not known yet); acllogRequested is the count this scrape asked for.
	acllogMaxLen    int
	acllogRequested string
	aclLog          *acllog.Tracker
	commands        *commandState
	clients         *clientsState
	// commandLog carries COMMANDLOG's event counts (see commandlog.go).
	commandLog commandLogState
	// aclUsers caches the acl collector's per-user series (see
	// commandState.emitted).
	aclUsers map[string]userSeries[aclUserKey]
	// aclCache is the last ACL LIST reply (see acllist.go).
	aclCache aclListCache
	// configCache is the last CONFIG GET reply (see configreuse.go).
	configCache configCache
	// aclOut is the acl collector's output for a reused parse of it.
	aclOut aclOutput
	// vulns are the CVEs matched for the server's version.
	vulns vulnMatches
	// memo is the last scrape's metric per series (see memo.go).
	memo metricMemo
	// index is what the findings' index read from the last scrape's
	// metrics (see indexMemo).
	index indexMemo
	// server holds the strings of the last facts as strings of their own
	// (see ownServer).
	server redisinfo.Server
}

// ownServer returns srv with its strings, substrings of an INFO reply,
// replaced by copies of their own, the same ones while they do not change.
// The facts and the caches keep the run id, mode and role across scrapes,
// and a substring would keep the whole reply it was cut from (some 5 KiB per
// pooled /probe target) alive with it.
func (s *State) ownServer(srv redisinfo.Server) redisinfo.Server {
	own := func(kept *string, v string) string {
		if *kept != v {
			*kept = strings.Clone(v)
		}
		return *kept
	}
	srv.RunID = own(&s.server.RunID, srv.RunID)
	srv.Mode = own(&s.server.Mode, srv.Mode)
	srv.Role = own(&s.server.Role, srv.Role)
	return srv
}

// NewState returns an empty state.
func NewState() *State {
	return &State{aclLog: acllog.NewTracker(), commands: &commandState{}, clients: newClientsState()}
}
