// Package allowlist decides which Redis servers a module of the multi-target
// exporter may connect to, before any connection and, whenever the patterns
// allow it, before any DNS lookup.
//
// Two kinds of pattern exist:
//
//   - address ranges: a CIDR range or a single IP address, with an optional
//     port list: 10.0.0.0/8, 192.0.2.7, 10.1.0.0/16:6379, [fd00::/8]:7000-7005.
//     Without a port list every port is allowed.
//   - host names with a port list: redis-1.prod.internal:6379,
//     redis-*.prod.internal:*, *.cache.internal:7000-7005. A '*' stands for
//     any run of characters within one DNS label (it never matches a '.'),
//     so *.prod.internal does not admit evil.example.prod.internal.evil.com,
//     nor a.b.prod.internal. The port list is required: write :* for any.
//
// A target given as an IP address is allowed by address ranges only. A target
// given as a host name is allowed by a matching host-name pattern without a
// DNS lookup, and the connection then goes to that name; otherwise, when some
// address range admits the port, the name is resolved and only the resolved
// addresses inside the allowed ranges are dialled, at every connection, so a
// DNS answer that changes later (DNS rebinding) cannot lead the exporter
// elsewhere.
//
// Some targets no pattern admits: a name whose last label is a number (127.1,
// 0x7f.0.0.1, 2130706433: IPv4 addresses in inet_aton notation, which a cgo
// resolver turns into addresses without asking DNS), an address with a zone,
// and the unspecified addresses 0.0.0.0 and :: (which reach this host).
package allowlist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrDenied is returned for a target no pattern admits. Its text names
// neither the target nor the patterns: it reaches HTTP clients.
var ErrDenied = errors.New("target not allowed by the module's allowed_targets")

// List is a parsed allowlist; its zero value admits nothing.
type List struct {
	ranges []rangeRule
	hosts  []hostRule
}

type portSet struct {
	any      bool
	from, to int
}

func (p portSet) contains(port int) bool { return p.any || port >= p.from && port <= p.to }

type rangeRule struct {
	prefix netip.Prefix
	ports  portSet
}

type hostRule struct {
	// labels of the pattern, lower case; a label may contain '*'.
	labels []string
	ports  portSet
}

// Parse parses patterns. Errors name the offending pattern (patterns come
// from the operator's config file, never from a request), except one that
// looks like a URL (a scheme, userinfo, a query or a fragment): a mistyped
// redis://user:password@host would put its password in the logs, so it is
// named by its position instead.
func Parse(patterns []string) (*List, error) {
	l := &List{}
	for i, p := range patterns {
		if err := l.add(strings.TrimSpace(p)); err != nil {
			if strings.Contains(p, "://") || strings.ContainsAny(p, "@?#") {
				return nil, fmt.Errorf("allowed_targets entry %d (not quoted: it looks like a URL, which may hold a password): %w", i+1, err)
			}
			return nil, fmt.Errorf("allowed_targets entry %q: %w", p, err)
		}
	}
	return l, nil
}

// Empty reports whether the list admits nothing.
func (l *List) Empty() bool { return l == nil || len(l.ranges)+len(l.hosts) == 0 }

func (l *List) add(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	// A whole IP or CIDR, IPv6 included: every port.
	if prefix, ok := parseRange(p); ok {
		l.ranges = append(l.ranges, rangeRule{prefix: prefix, ports: portSet{any: true}})
		return nil
	}
	if strings.Contains(p, "://") || strings.ContainsAny(p, "@?#") {
		return errors.New("want host:port, a CIDR range or an IP address, without scheme, user or query")
	}
	host, ports, err := splitHostPorts(p)
	if err != nil {
		return err
	}
	set, err := parsePorts(ports)
	if err != nil {
		return err
	}
	if prefix, ok := parseRange(host); ok {
		l.ranges = append(l.ranges, rangeRule{prefix: prefix, ports: set})
		return nil
	}
	labels, err := parseHostPattern(host)
	if err != nil {
		return err
	}
	l.hosts = append(l.hosts, hostRule{labels: labels, ports: set})
	return nil
}

// parseRange parses a CIDR range or a single address (as a /32 or /128).
// Addresses with a zone are refused: a zone names an interface of this host.
func parseRange(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		prefix, err := netip.ParsePrefix(s)
		if err != nil || prefix.Addr().Zone() != "" {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(prefix.Addr().Unmap(), bitsUnmapped(prefix)).Masked(), true
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), true
}

// bitsUnmapped converts the length of an IPv4-mapped IPv6 prefix
// (::ffff:10.0.0.0/104) to its IPv4 length (/8).
func bitsUnmapped(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

// splitHostPorts splits host:ports or [host]:ports at the last colon.
func splitHostPorts(p string) (host, ports string, err error) {
	if strings.HasPrefix(p, "[") {
		end := strings.Index(p, "]")
		if end < 0 || end+1 >= len(p) || p[end+1] != ':' {
			return "", "", errors.New("want [address]:port")
		}
		return p[1:end], p[end+2:], nil
	}
	i := strings.LastIndex(p, ":")
	if i < 0 {
		return "", "", errors.New("a host name needs a port (host:6379, or host:* for any port)")
	}
	host, ports = p[:i], p[i+1:]
	if strings.Contains(host, ":") {
		return "", "", errors.New("write IPv6 addresses with a port as [address]:port")
	}
	return host, ports, nil
}

// parsePorts parses "*", "6379" or "7000-7005".
func parsePorts(s string) (portSet, error) {
	if s == "*" {
		return portSet{any: true}, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	a, err := parsePort(from)
	if err != nil {
		return portSet{}, err
	}
	b := a
	if isRange {
		if b, err = parsePort(to); err != nil {
			return portSet{}, err
		}
		if b < a {
			return portSet{}, errors.New("port range ends before it starts")
		}
	}
	return portSet{from: a, to: b}, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(s, "+") {
		return 0, errors.New("want a port 1-65535, a range 7000-7005 or *")
	}
	return n, nil
}

// parseHostPattern checks a host-name pattern: DNS labels of letters,
// digits, '-' and '_', any of them may contain '*'.
func parseHostPattern(host string) ([]string, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return nil, errors.New("empty host")
	}
	labels := strings.Split(host, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 {
			return nil, errors.New("not a host name pattern")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '*') {
				return nil, fmt.Errorf("character %q is not allowed in a host name pattern", r)
			}
		}
	}
	if labels[len(labels)-1] == "*" {
		return nil, errors.New("a '*' top-level label would admit every domain")
	}
	if numericLabel(labels[len(labels)-1]) {
		// It could never match (Decide refuses such names), and was most
		// likely meant as an IP glob such as 10.0.*.5: ranges say that.
		return nil, errors.New("a numeric top-level label is an IP address, not a host name: write a CIDR range")
	}
	return labels, nil
}

// numericLabel reports whether a (lower-case) DNS label is a number as
// inet_aton reads one: decimal, octal (leading 0) or hex (0x). No top-level
// domain is numeric, and a name ending in one is an IPv4 address in another
// notation: getaddrinfo (the cgo resolver) turns "127.1", "0x7f.0.0.1",
// "0177.0.0.1" or "2130706433" into 127.0.0.1 without any DNS query.
func numericLabel(label string) bool {
	if rest, ok := strings.CutPrefix(label, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return label != "" && strings.Trim(label, "0123456789") == ""
}

// Decision is what the list says about a target without resolving it.
type Decision int

const (
	// Denied: no pattern can admit the target, whatever it resolves to.
	Denied Decision = iota
	// Allowed: admitted as written; dial it as is.
	Allowed
	// NeedsLookup: a host name that only address ranges could admit; the
	// resolved addresses decide (see Resolve).
	NeedsLookup
)

// Decide judges host:port without any lookup. host is an IP address (IPv6
// without brackets) or a host name.
func (l *List) Decide(host string, port int) Decision {
	if l == nil || port < 1 || port > 65535 || host == "" {
		return Denied
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return Denied
		}
		if l.admitsAddr(addr.Unmap(), port) {
			return Allowed
		}
		return Denied
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if !validName(name) {
		return Denied
	}
	labels := strings.Split(name, ".")
	// An IPv4 address in inet_aton notation (127.1, 0x7f.0.0.1) is no host
	// name: a name pattern such as *.0.0.1 must not admit it, since a cgo
	// resolver would dial 127.0.0.1 for it, outside every range.
	if numericLabel(labels[len(labels)-1]) {
		return Denied
	}
	for _, h := range l.hosts {
		if h.ports.contains(port) && matchLabels(h.labels, labels) {
			return Allowed
		}
	}
	for _, r := range l.ranges {
		if r.ports.contains(port) {
			return NeedsLookup
		}
	}
	return Denied
}

func (l *List) admitsAddr(addr netip.Addr, port int) bool {
	// 0.0.0.0 and :: are no server's address: a connection to them reaches
	// this host (Linux dials them as loopback), whatever range holds them.
	if addr.IsUnspecified() {
		return false
	}
	for _, r := range l.ranges {
		if r.ports.contains(port) && r.prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// validName refuses what is not a DNS name (a resolver might accept more,
// such as "localhost\x00.example").
func validName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func matchLabels(pattern, labels []string) bool {
	if len(pattern) != len(labels) {
		return false
	}
	for i := range pattern {
		if !matchLabel(pattern[i], labels[i]) {
			return false
		}
	}
	return true
}

// matchLabel matches one label against a pattern where '*' is any run of
// characters (the label has no '.', so neither can the match). Greedy with
// backtracking to the last star: O(len(pattern)*len(label)).
func matchLabel(pattern, label string) bool {
	p, l := 0, 0
	star, mark := -1, 0
	for l < len(label) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, l
			p++
		case p < len(pattern) && pattern[p] == label[l]:
			p++
			l++
		case star >= 0:
			p = star + 1
			mark++
			l = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Resolver looks up host names; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Resolve returns the addresses (host:port) to dial for host:port: the
// target itself when it is admitted as written, the admitted resolved
// addresses for a host name only address ranges admit, or ErrDenied.
func (l *List) Resolve(ctx context.Context, r Resolver, host string, port int) ([]string, error) {
	switch l.Decide(host, port) {
	case Allowed:
		return []string{net.JoinHostPort(host, strconv.Itoa(port))}, nil
	case NeedsLookup:
	default:
		return nil, ErrDenied
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolving the target: %w", err)
	}
	var out []string
	for _, a := range addrs {
		a = a.Unmap().WithZone("")
		if l.admitsAddr(a, port) {
			out = append(out, net.JoinHostPort(a.String(), strconv.Itoa(port)))
		}
	}
	if len(out) == 0 {
		return nil, ErrDenied
	}
	return out, nil
}

// Dialer connects only where a List admits, checking at every connection.
type Dialer struct {
	List     *List
	Resolver Resolver // nil: net.DefaultResolver
	Dialer   net.Dialer
}

// DialContext dials addr (host:port over tcp) if the list admits it, trying
// each admitted resolved address in turn.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, ErrDenied
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, ErrDenied
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, ErrDenied
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	targets, err := d.List.Resolve(ctx, r, host, port)
	if err != nil {
		return nil, err
	}
	var firstErr error
	for _, t := range targets {
		conn, err := d.Dialer.DialContext(ctx, network, t)
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}
