// Package netclass classifies the addresses Redis listens on and connects
// from: loopback, private or public, and wildcard binds.
package netclass

import (
	"net/netip"
	"strings"
)

// Class is the reach of an address.
type Class string

// Address classes, the values of the "network" label.
const (
	Loopback Class = "loopback"
	Private  Class = "private"
	Public   Class = "public"
)

// Classify returns the class of an IP address: loopback (127/8, ::1),
// private (RFC 1918, RFC 4193 unique-local, link-local) or public.
func Classify(a netip.Addr) Class {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return Loopback
	case a.IsPrivate(), a.IsLinkLocalUnicast():
		return Private
	default:
		return Public
	}
}

// IsWildcardBind reports whether a Redis bind address listens on every
// interface: "*", "::*", "0.0.0.0", "::" (or any other spelling of the
// unspecified address, such as "::0"), or the empty bind of 6.x. A leading
// "-" (bind is optional) is ignored.
func IsWildcardBind(addr string) bool {
	addr = strings.TrimPrefix(addr, "-")
	switch addr {
	case "", "*", "::*", "0.0.0.0", "::":
		return true
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.IsUnspecified()
}

// BindReachableBeyondLoopback reports whether a bind address accepts
// connections from other hosts. Anything that is not a loopback IP literal
// counts as reachable (wildcards, interface addresses, unparsable values): a
// security tool must err on the side of reporting exposure.
func BindReachableBeyondLoopback(addr string) bool {
	addr = strings.TrimPrefix(addr, "-")
	if IsWildcardBind(addr) {
		return true
	}
	if i := strings.IndexByte(addr, '%'); i >= 0 { // fe80::1%eth0
		addr = addr[:i]
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr != "localhost"
	}
	return !ip.Unmap().IsLoopback()
}
