package collector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/commandlog"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

var (
	commandLogEntriesDesc = newDesc("commandlog_entries",
		"Entries in Valkey's COMMANDLOG now, per type (slow, large-request, large-reply).", "type")
	commandLogEventsDesc = newDesc("commandlog_events_total",
		"Commands COMMANDLOG logged since the server started, per type: the newest entry's id + 1 (ids count every entry, also those trimmed or reset since). Absent while COMMANDLOG GET fails, and while the log is empty and no earlier scrape of this server run saw an entry.",
		"type")
	commandLogLastEventDesc = newDesc("commandlog_last_event_timestamp_seconds",
		"Time of the newest COMMANDLOG entry per type (absent while the log is empty).", "type")
	commandLogMaxLengthDesc = newDesc("commandlog_max_length",
		"How many entries COMMANDLOG keeps per type (commandlog-slow-execution-max-len, commandlog-large-request-max-len, commandlog-large-reply-max-len); 0 = nothing is logged.",
		"type")
	commandLogEnabledDesc = newDesc("commandlog_enabled",
		"1 if COMMANDLOG records this type: its threshold is not negative and its max length is above 0.", "type")
	commandLogSlowThresholdDesc = newDesc("commandlog_slow_threshold_seconds",
		"commandlog-execution-slower-than: commands that run longer are logged as slow; 0 logs every command (absent when negative: not logged).")
	commandLogLargeThresholdDesc = newDesc("commandlog_large_threshold_bytes",
		"commandlog-request-larger-than (type large-request) and commandlog-reply-larger-than (large-reply): larger requests or replies are logged (absent when negative: not logged).",
		"type")
)

// commandLogSettings are each type's threshold and max-length parameters
// (Valkey 8.1; slowlog-log-slower-than and slowlog-max-len are aliases of
// the slow ones).
var commandLogSettings = map[string][2]string{
	"slow":          {"commandlog-execution-slower-than", "commandlog-slow-execution-max-len"},
	"large-request": {"commandlog-request-larger-than", "commandlog-large-request-max-len"},
	"large-reply":   {"commandlog-reply-larger-than", "commandlog-large-reply-max-len"},
}

// CommandLogRules are the ACL rules the commandlog collector needs beyond
// LeastPrivilegeRules, on Valkey 8.1+ only: elsewhere COMMANDLOG does not
// exist and ACL SETUSER refuses rules that name it.
const CommandLogRules = "+commandlog|get +commandlog|len"

// hasCommandLog reports whether the server has COMMANDLOG (Valkey 8.1+).
func hasCommandLog(f Facts) bool {
	return f.Known && f.Server.Flavor == redisinfo.FlavorValkey && f.Server.Version.AtLeast(8, 1)
}

// CommandLog reports Valkey's COMMANDLOG: how many slow commands, large
// requests and large replies it logged, and whether it logs them at all. A
// large request is how payload-based exploits and memory abuse arrive; a
// large reply is how data leaves (KEYS, HGETALL of a big hash); a slow
// command is how one client stalls every other. Only counts and times are
// exported: an entry's arguments, address and client name are the client's.
// It reads one entry per type (COMMANDLOG GET 1), not the log.
type CommandLog struct{}

// Name implements Scraper.
func (CommandLog) Name() string { return "commandlog" }

// Help implements Scraper.
func (CommandLog) Help() string {
	return "Collect Valkey 8.1+'s COMMANDLOG (slow commands, large requests, large replies): events, entries and settings; needs COMMANDLOG GET and LEN (" + CommandLogRules + ") and CONFIG GET commandlog-*."
}

// Plan implements Scraper. Before the first INFO nothing is planned: the
// scrape that reveals a Valkey 8.1+ is sent again with these requests.
func (CommandLog) Plan(p *Plan) {
	f := p.Facts()
	if !hasCommandLog(f) {
		return
	}
	st := &p.State().commandLog
	for _, t := range commandlog.Types {
		p.Config(commandLogSettings[t][0], commandLogSettings[t][1])
		if !st.refused("commandlog|len", f.Server.RunID) {
			p.Command("COMMANDLOG", "LEN", t)
		}
		if !st.refused("commandlog|get", f.Server.RunID) {
			p.Command("COMMANDLOG", "GET", "1", t)
		}
	}
}

// Describe implements Scraper.
func (CommandLog) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{commandLogEntriesDesc, commandLogEventsDesc, commandLogLastEventDesc,
		commandLogMaxLengthDesc, commandLogEnabledDesc, commandLogSlowThresholdDesc, commandLogLargeThresholdDesc} {
		ch <- d
	}
}

// commandLogDeniedRetry is how long a refused COMMANDLOG command is not
// sent again when ACL LIST is not read (the acl and acllog collectors off,
// or ACL LIST refused too), so a grant cannot be seen there.
const commandLogDeniedRetry = time.Hour

// commandLogState carries each type's event count within one server run:
// an emptied log (COMMANDLOG RESET, or a max length lowered to 0) has no
// id to count from, yet its count has not gone back.
type commandLogState struct {
	runID  string
	events map[string]float64
	// denied are the COMMANDLOG commands ("commandlog|get", "commandlog|len")
	// refused to the exporter's user on server run deniedRunID at deniedAt,
	// with ACL LIST as it was then (deniedACL, a fingerprint; 0 unknown).
	// They are not sent again until the run or ACL LIST changes (or, with
	// ACL LIST unknown, commandLogDeniedRetry has passed): a user without
	// CommandLogRules then causes one ACL denial, not one a scrape, in the
	// ACL LOG and the counters the exporter's own alerts watch.
	denied      []string
	deniedRunID string
	deniedACL   uint64
	deniedAt    time.Time
}

// refused reports whether command was refused on run runID and is not to
// be sent.
func (s *commandLogState) refused(command, runID string) bool {
	return s.deniedRunID == runID && slices.Contains(s.denied, command)
}

// Scrape implements Scraper.
func (CommandLog) Scrape(r *Replies, send Send, logger log.Logger) error {
	facts := r.Facts()
	if !hasCommandLog(facts) {
		return nil // no COMMANDLOG on this server: nothing to report
	}
	e := r.emitter(send)
	st := &r.State().commandLog
	runID := facts.Server.RunID
	if st.runID != runID || st.events == nil {
		st.runID, st.events = runID, map[string]float64{}
	}
	var errs []error
	// Commands not sent because they were refused before: still a blind
	// spot; asked again once ACL LIST (or the run) changed.
	var skipped []string
	for _, c := range []string{"commandlog|len", "commandlog|get"} {
		if st.refused(c, runID) && !r.requestedName(c) {
			skipped = append(skipped, c)
			r.MarkDenied(c)
		}
	}
	if len(skipped) > 0 {
		errs = append(errs, fmt.Errorf("%s refused to the exporter's user (grant %s); not sent again until ACL LIST or the server run changes",
			strings.ToUpper(strings.Join(skipped, ", ")), CommandLogRules))
		fp, ok := aclFingerprint(r)
		if (ok && fp != st.deniedACL) || (!ok && time.Since(st.deniedAt) >= commandLogDeniedRetry) {
			st.denied = nil // the next scrape asks again
		}
	}
	var denied []string
	deny := func(c string, err error) {
		if IsDenied(err) && !slices.Contains(denied, c) {
			denied = append(denied, c)
		}
	}
	for _, t := range commandlog.Types {
		if r.Requested("COMMANDLOG", "LEN", t) {
			if v, err := r.Command("COMMANDLOG", "LEN", t); err != nil {
				errs = append(errs, err)
				deny("commandlog|len", err)
			} else if n, err := commandlog.ParseLen(v); err != nil {
				errs = append(errs, fmt.Errorf("type %s: %w", t, err))
			} else {
				e.gauge(commandLogEntriesDesc, float64(n), t)
			}
		}
		if r.Requested("COMMANDLOG", "GET", "1", t) {
			if v, err := r.Command("COMMANDLOG", "GET", "1", t); err != nil {
				errs = append(errs, err)
				deny("commandlog|get", err)
			} else if entries, err := commandlog.Parse(v); err != nil {
				errs = append(errs, fmt.Errorf("type %s: %w", t, err))
			} else {
				if len(entries) > 0 {
					// ids only grow within a run; max keeps the counter
					// monotonic should a server ever answer otherwise.
					st.events[t] = max(st.events[t], float64(entries[0].ID)+1)
					e.gauge(commandLogLastEventDesc, float64(entries[0].Timestamp), t)
				}
				// Only from a log read this scrape: a count carried
				// while reads fail would look current and flat.
				if n, ok := st.events[t]; ok {
					e.counter(commandLogEventsDesc, n, t)
				}
			}
		}

		threshold, thresholdOK, err := commandLogSetting(r, commandLogSettings[t][0])
		if err != nil {
			errs = append(errs, err)
		}
		maxLen, maxLenOK, err := commandLogSetting(r, commandLogSettings[t][1])
		if err != nil {
			errs = append(errs, err)
		}
		if maxLenOK {
			e.gauge(commandLogMaxLengthDesc, float64(max(maxLen, 0)), t)
		}
		if thresholdOK && threshold >= 0 {
			if t == "slow" {
				e.gauge(commandLogSlowThresholdDesc, float64(threshold)/1e6)
			} else {
				e.gauge(commandLogLargeThresholdDesc, float64(threshold), t)
			}
		}
		if thresholdOK && maxLenOK {
			e.gauge(commandLogEnabledDesc, boolValue(threshold >= 0 && maxLen > 0), t)
		}
	}
	if len(denied) > 0 {
		if st.deniedRunID != runID {
			st.denied = nil
		}
		for _, c := range denied {
			if !slices.Contains(st.denied, c) {
				st.denied = append(st.denied, c)
			}
		}
		st.deniedRunID, st.deniedAt = runID, time.Now()
		st.deniedACL, _ = aclFingerprint(r)
		level.Warn(logger).Log("msg", "the exporter's user may not run COMMANDLOG: not sent again until ACL LIST or the server run changes", "refused", strings.Join(denied, ","), "grant", CommandLogRules)
	}
	return errors.Join(errs...)
}

// aclFingerprint sums this scrape's ACL LIST (ok false when it was not
// read) from the per-user line hashes the acl collectors' shared parse
// already holds: whether the ACL changed since an earlier scrape.
func aclFingerprint(r *Replies) (uint64, bool) {
	a, err := r.aclList()
	if err != nil {
		return 0, false
	}
	var fp uint64
	for _, sum := range a.lines { // SHA-256 of each line: order-free XOR of their prefixes
		fp ^= binary.LittleEndian.Uint64([]byte(sum))
	}
	return fp | 1, true // never 0, the unknown fingerprint
}

// commandLogSetting reads an integer commandlog-* parameter. ok is false
// when the server did not return it or it failed (err set).
func commandLogSetting(r *Replies, name string) (int64, bool, error) {
	v, ok, err := r.Config(name)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("CONFIG %s %q is not an integer", name, v)
	}
	return n, true, nil
}
