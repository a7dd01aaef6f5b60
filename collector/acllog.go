package collector

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/acllog"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

var (
	aclLogEventsDesc = newDesc("acl_log_events_total",
		"ACL LOG events (failed AUTH, denied commands, keys and channels) counted by the exporter from the growth of the log's entries: exact on Redis 7.2+ and Valkey (entry ids), approximate before. username is an existing ACL user or \"unknown\": attempted names are attacker-chosen and never a label.",
		"reason", "username")
	aclLogEntriesDesc = newDesc("acl_log_entries",
		"Entries in the ACL LOG now.", "reason")
	aclLogLastEventDesc = newDesc("acl_log_last_event_timestamp_seconds",
		"Time of the newest ACL LOG event per reason (before 7.2: derived from age-seconds).", "reason")
	aclLogLostDesc = newDesc("acl_log_lost_events_total",
		"ACL LOG entries created and dropped (evicted from a full log, or reset) before the exporter read them, from gaps in entry ids (7.2+); each held at least one event.")
	aclLogMaxLengthDesc = newDesc("acl_log_max_length",
		"acllog-max-len: how many entries ACL LOG keeps; 0 = failed AUTH and denials are not logged.")
	aclLogSourceDesc = newDesc("acl_log_source_events",
		"Events in the current ACL LOG per client address (IP without port, \"unix\" for unix sockets), for the top sources per reason only.",
		"reason", "source")
)

// aclLogReasons are always reported by acl_log_entries, 0 included; other
// reasons appear when the log has them.
var aclLogReasons = []string{"auth", "command", "key"}

// maxACLLogLen bounds the count requested from ACL LOG.
const maxACLLogLen = 10000

// ACLLog turns ACL LOG into event counters, per-reason gauges and the top
// sources. It reads the whole log (acllog-max-len entries: plain ACL LOG
// returns only 10) every scrape.
type ACLLog struct {
	// TopSources is how many client addresses are reported per reason.
	TopSources int
}

// Name implements Scraper.
func (ACLLog) Name() string { return "acllog" }

// Help implements Scraper.
func (ACLLog) Help() string {
	return "Collect ACL LOG events (failed AUTH, ACL denials) as counters, with the top client addresses; needs ACL LOG, ACL LIST and CONFIG GET acllog-max-len."
}

// Plan implements Scraper.
func (ACLLog) Plan(p *Plan) {
	s := p.State()
	n := s.acllogMaxLen
	if n <= 0 {
		n = 128 // the default acllog-max-len; corrected from CONFIG next scrape
	}
	s.acllogRequested = strconv.Itoa(n)
	p.Command("ACL", "LOG", s.acllogRequested)
	p.Command("ACL", "LIST")
	p.Config("acllog-max-len")
}

// Describe implements Scraper.
func (ACLLog) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{aclLogMaxLengthDesc, aclLogEventsDesc, aclLogEntriesDesc, aclLogLastEventDesc, aclLogLostDesc, aclLogSourceDesc, authFailuresDesc} {
		ch <- d
	}
}

// Scrape implements Scraper.
func (a ACLLog) Scrape(r *Replies, send Send, logger log.Logger) error {
	e := r.emitter(send)
	s := r.State()
	var errs []error
	if v, ok, err := r.Config("acllog-max-len"); err != nil {
		errs = append(errs, err)
	} else if ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			s.acllogMaxLen = min(n, maxACLLogLen)
			e.gauge(aclLogMaxLengthDesc, float64(n))
		} else {
			errs = append(errs, fmt.Errorf("CONFIG acllog-max-len %q is not a count", v))
		}
	}
	facts := r.Facts()
	if !facts.Known {
		return errors.Join(append(errs, errors.New("server unknown (INFO failed): ACL LOG cannot be tracked"))...)
	}
	users, err := ACLUsers(r, logger)
	if err != nil {
		// Without the user list events cannot be labelled; they are counted
		// on the next successful scrape instead.
		return errors.Join(append(errs, err)...)
	}
	v, err := r.Command("ACL", "LOG", s.acllogRequested)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	entries, err := acllog.Parse(v)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	known := make(map[string]bool, len(users))
	for _, u := range users {
		known[u.Name] = true
	}
	withIDs := facts.Server.CompatVersion.AtLeast(7, 2)
	s.aclLog.Update(facts.Server.RunID, withIDs, entries, func(n string) bool { return known[n] })

	var authEvents float64
	for _, ev := range s.aclLog.Events() {
		e.counter(aclLogEventsDesc, ev.Count, ev.Reason, ev.Username)
		if ev.Reason == "auth" {
			authEvents += ev.Count
		}
	}
	if lost, ok := s.aclLog.Lost(); ok {
		e.counter(aclLogLostDesc, lost)
	}
	// Redis 6.0 counts failed AUTH nowhere else (no errorstats, no
	// acl_access_denied_auth): the tracked events are the source.
	if in, err := r.Info(); err == nil && !in.HasSection("errorstats") && !hasField(in, "acl_access_denied_auth") {
		e.counter(authFailuresDesc, authEvents)
	}

	reasons := append([]string(nil), aclLogReasons...)
	if facts.Server.CompatVersion.AtLeast(6, 2) {
		reasons = append(reasons, "channel")
	}
	// Valkey 9's per-database rules (db=) log their denials as "database".
	if facts.Server.Flavor == redisinfo.FlavorValkey && facts.Server.Version.AtLeast(9, 0) {
		reasons = append(reasons, "database")
	}
	perReason := map[string]int{}
	newest := map[string]float64{}
	sources := map[string]map[string]int64{}
	now := time.Now()
	for _, e := range entries {
		perReason[e.Reason]++
		ts := float64(e.LastUpdatedMillis) / 1000
		if !e.HasEntryID {
			ts = float64(now.UnixMilli())/1000 - e.AgeSeconds
		}
		if ts > newest[e.Reason] {
			newest[e.Reason] = ts
		}
		if sources[e.Reason] == nil {
			sources[e.Reason] = map[string]int64{}
		}
		sources[e.Reason][e.Source] += e.Count
	}
	for reason := range perReason {
		if !slices.Contains(reasons, reason) {
			reasons = append(reasons, reason)
		}
	}
	for _, reason := range reasons {
		e.gauge(aclLogEntriesDesc, float64(perReason[reason]), reason)
		if ts, ok := newest[reason]; ok {
			e.gauge(aclLogLastEventDesc, ts, reason)
		}
		for _, src := range topSources(sources[reason], a.TopSources) {
			e.gauge(aclLogSourceDesc, float64(sources[reason][src]), reason, src)
		}
	}
	return errors.Join(errs...)
}

// topSources returns up to n sources with the most events (ties by address).
func topSources(m map[string]int64, n int) []string {
	srcs := make([]string, 0, len(m))
	for s := range m {
		srcs = append(srcs, s)
	}
	slices.SortFunc(srcs, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c // most events first
		}
		return strings.Compare(a, b)
	})
	if n >= 0 && len(srcs) > n {
		srcs = srcs[:n]
	}
	return srcs
}
