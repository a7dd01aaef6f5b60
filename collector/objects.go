package collector

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redis-security/redis_security_exporter/collector/internal/netclass"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/collector/internal/vuln"
)

// Object is what a failing finding is about: a user, a command, a CVE, a
// listener, a path, a certificate, a setting. Objects are read from the
// scrape's own series, whose label values the collectors already made
// exportable (LabelValue), so an object never holds more than a label
// could: never a password, a hash or an attempted username.
type Object struct {
	// Kind is one of user, command, cve, listener, path, certificate,
	// setting, protocol, client_class, version.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Severity and FixedIn are set for CVEs. FixedIn is the first fixed
	// release on the server's branch, "" when only a newer branch has the
	// fix.
	Severity string `json:"severity,omitempty"`
	FixedIn  string `json:"fixed_in,omitempty"`
	// DaysLeft is set for certificates (negative: expired that many days
	// ago).
	DaysLeft *int `json:"days_left,omitempty"`
	// Transport is set for listeners: tcp, tls or unix.
	Transport string `json:"transport,omitempty"`
}

// String renders the object for text reports: "app",
// "CVE-2025-49844 (critical, fixed in 7.2.11)", "0.0.0.0:6379 (tcp)",
// "CN=redis serial 01: 5 days left".
func (o Object) String() string {
	switch {
	case o.Kind == "cve":
		fix := "fixed in " + o.FixedIn
		if o.FixedIn == "" {
			fix = "fixed only in a newer branch"
		}
		return fmt.Sprintf("%s (%s, %s)", o.Name, o.Severity, fix)
	case o.DaysLeft != nil && *o.DaysLeft < 0:
		return fmt.Sprintf("%s: expired %d days ago", o.Name, -*o.DaysLeft)
	case o.DaysLeft != nil:
		return fmt.Sprintf("%s: %d days left", o.Name, *o.DaysLeft)
	case o.Transport != "":
		return fmt.Sprintf("%s (%s)", o.Name, o.Transport)
	}
	return o.Name
}

// objectsOf lists the objects of the series of metric name whose value is 1,
// named by label (one object per distinct value, sorted).
func objectsOf(ix *index, kind, name, label string, keep func(sample) bool) []Object {
	seen := map[string]bool{}
	var names []string
	for _, s := range ix.series[name] {
		v := s.label(label)
		if s.value != 1 || seen[v] || (keep != nil && !keep(s)) {
			continue
		}
		seen[v] = true
		names = append(names, v)
	}
	sort.Strings(names)
	out := make([]Object, len(names))
	for i, n := range names {
		out[i] = Object{Kind: kind, Name: n}
	}
	return out
}

// enabledUserObjects lists the enabled users (but skip) with metric == 1.
func enabledUserObjects(name, skip string) func(*index) []Object {
	return func(ix *index) []Object {
		users, _ := ix.enabledUsers()
		return objectsOf(ix, "user", name, "user", func(s sample) bool {
			u := s.label("user")
			return users[u] && u != skip
		})
	}
}

// unrestrictedUserObjects lists the enabled users but default with every
// command and every key.
func unrestrictedUserObjects(ix *index) []Object {
	users, _ := ix.enabledUsers()
	keys := map[string]bool{}
	for s := range ix.matching("acl_user_unrestricted", "scope", "keys") {
		keys[s.label("user")] = s.value == 1
	}
	return objectsOf(ix, "user", "acl_user_unrestricted", "user", func(s sample) bool {
		u := s.label("user")
		return s.label("scope") == "commands" && keys[u] && users[u] && u != "default"
	})
}

// listenerObjects lists the listeners keep accepts.
func listenerObjects(keep func(transport, address string) bool) func(*index) []Object {
	return func(ix *index) []Object {
		var out []Object
		seen := map[string]bool{}
		for _, s := range ix.series["listener"] {
			tr, addr, port := s.label("transport"), s.label("address"), s.label("port")
			if !keep(tr, addr) {
				continue
			}
			name := addr
			if port != "" {
				name = net.JoinHostPort(addr, port)
			}
			if seen[tr+" "+name] {
				continue
			}
			seen[tr+" "+name] = true
			out = append(out, Object{Kind: "listener", Name: name, Transport: tr})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Transport != out[j].Transport {
				return out[i].Transport < out[j].Transport
			}
			return out[i].Name < out[j].Name
		})
		return out
	}
}

func tcpOrTLS(tr string) bool { return tr == "tcp" || tr == "tls" }

// vulnerabilityObjects lists the CVEs of the scrape with their severity and
// the fixed-in release of the server's branch (from the same table the
// vulnerability series come from).
func vulnerabilityObjects(ix *index) []Object {
	fixedIn := map[string]string{}
	if ss := ix.series["server_info"]; len(ss) > 0 {
		if v, err := redisinfo.ParseVersion(ss[0].label("version")); err == nil {
			table := ix.vulns
			if table == nil {
				table = vuln.Embedded()
			}
			for _, m := range table.Match(redisinfo.Flavor(ss[0].label("flavor")), v) {
				fixedIn[m.ID] = m.FixedIn
			}
		}
	}
	var out []Object
	for _, s := range ix.series["vulnerability"] {
		if s.value != 1 {
			continue
		}
		id := s.label("cve")
		out = append(out, Object{Kind: "cve", Name: id, Severity: s.label("severity"), FixedIn: fixedIn[id]})
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := Severity(out[i].Severity).Rank(), Severity(out[j].Severity).Rank()
		if ri != rj {
			return ri > rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// expiringCertificateObjects lists the certificates expiring within the
// warning, with the days left.
func expiringCertificateObjects(ix *index) []Object {
	limit := float64(ix.now.Add(certificateExpiryWarning).Unix())
	var out []Object
	for _, s := range ix.series["tls_certificate_not_after_timestamp_seconds"] {
		if s.value >= limit {
			continue
		}
		days := int(math.Floor((s.value - float64(ix.now.Unix())) / 86400))
		name := s.label("subject")
		if serial := s.label("serial"); serial != "" {
			name += " serial " + serial
		}
		out = append(out, Object{Kind: "certificate", Name: name, DaysLeft: &days})
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].DaysLeft < *out[j].DaysLeft })
	return out
}

// persistencePathObjects names the dump's path.
func persistencePathObjects(ix *index) []Object {
	var out []Object
	for _, s := range ix.series["persistence_path_info"] {
		dir, file := s.label("dir"), s.label("dbfilename")
		out = append(out, Object{Kind: "path", Name: strings.TrimSuffix(dir, "/") + "/" + file})
	}
	return out
}

// settingObject names a setting and its value.
func settingObject(setting, value string) func(*index) []Object {
	return func(*index) []Object { return []Object{{Kind: "setting", Name: setting + " " + value}} }
}

// disabledCommandLogObjects names, per COMMANDLOG type that logs nothing,
// the setting that turns it off: a max length of 0, else a negative
// threshold (whose metric is then absent).
func disabledCommandLogObjects(ix *index) []Object {
	var out []Object
	for _, s := range ix.series["commandlog_enabled"] {
		if s.value != 0 {
			continue
		}
		t := s.label("type")
		settings, ok := commandLogSettings[t]
		if !ok {
			continue
		}
		if n, ok := ix.value("commandlog_max_length", "type", t); ok && n == 0 {
			out = append(out, Object{Kind: "setting", Name: settings[1] + " 0"})
		} else {
			out = append(out, Object{Kind: "setting", Name: settings[0] + " < 0"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// certificateUserFieldObjects names the setting in effect
// (tls-auth-clients-user CN or URI).
func certificateUserFieldObjects(ix *index) []Object {
	for _, s := range ix.series["tls_client_certificate_user_field"] {
		if s.value == 1 && s.label("field") != "off" {
			return []Object{{Kind: "setting", Name: "tls-auth-clients-user " + s.label("field")}}
		}
	}
	return nil
}

// weakProtocolObjects lists the enabled TLS 1.0/1.1 protocols.
func weakProtocolObjects(ix *index) []Object {
	return objectsOf(ix, "protocol", "tls_protocol_enabled", "protocol", func(s sample) bool {
		p := s.label("protocol")
		return p == "TLSv1" || p == "TLSv1.1"
	})
}

// unlimitedClientClassObjects lists the client classes without any output
// buffer limit.
func unlimitedClientClassObjects(ix *index) []Object {
	limits := map[string]float64{}
	for _, s := range ix.series["client_output_buffer_limit_bytes"] {
		limits[s.label("class")] += s.value
	}
	var out []Object
	for class, total := range limits {
		if total == 0 {
			out = append(out, Object{Kind: "client_class", Name: class})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// versionObjects names the server's version.
func versionObjects(ix *index) []Object {
	var out []Object
	for _, s := range ix.series["server_info"] {
		out = append(out, Object{Kind: "version", Name: s.label("flavor") + " " + s.label("version")})
	}
	return out
}

var (
	wildcardListeners = listenerObjects(func(tr, addr string) bool { return tcpOrTLS(tr) && netclass.IsWildcardBind(addr) })
	remoteListeners   = listenerObjects(func(tr, addr string) bool {
		return tcpOrTLS(tr) && netclass.BindReachableBeyondLoopback(addr)
	})
	remotePlaintextListeners = listenerObjects(func(tr, addr string) bool {
		return tr == "tcp" && netclass.BindReachableBeyondLoopback(addr)
	})
	plaintextListeners = listenerObjects(func(tr, _ string) bool { return tr == "tcp" })
	unixListeners      = listenerObjects(func(tr, _ string) bool { return tr == "unix" })
)

// ServerOf names the server of a scrape from its server_info series
// ("redis 7.0.15", "valkey 8.1.1"); "" when the scrape has none.
func ServerOf(metrics []prometheus.Metric) string {
	var pb dto.Metric
	for _, m := range metrics {
		if m.Desc() != serverInfoDesc {
			continue
		}
		pb.Reset()
		if m.Write(&pb) != nil {
			return ""
		}
		s := sample{labels: pb.Label}
		s.user = s.scan("user")
		return s.label("flavor") + " " + s.label("version")
	}
	return ""
}

// VulnerabilityTableOf is the table the Info scraper among scrapers matches
// versions against (nil: the embedded one).
func VulnerabilityTableOf(scrapers []Scraper) *VulnerabilityTable {
	for _, s := range scrapers {
		if i, ok := s.(Info); ok {
			return i.Vulnerabilities
		}
	}
	return nil
}
