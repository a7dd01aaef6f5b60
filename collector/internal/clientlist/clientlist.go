// Package clientlist parses CLIENT LIST replies and classifies each client
// connection by transport (tcp, tls, unix) and by the network its peer
// address belongs to (loopback, private, public).
//
// A CLIENT LIST line holds strings chosen by the client (name, lib-name,
// lib-ver, the last command). Only the id, the addresses, the flags and the
// ACL user leave this package, and the user is an existing user of the
// server (a client runs as the user it authenticated as, or default).
//
// Formats (one line per client, "key=value" fields separated by spaces):
// 6.0 has user; 6.2 adds laddr; 7.2 lib-name and lib-ver; 7.4 watch; Valkey
// 8 tot-net-in and more. Unknown fields are ignored.
package clientlist

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector/internal/netclass"
)

// Client is one line of CLIENT LIST.
type Client struct {
	ID int64
	// Addr is the peer address ("ip:port", "[ipv6]:port", or the socket
	// path followed by ":0" for unix sockets).
	Addr string
	// LAddr is the local address the client connected to (6.2+); HasLAddr
	// is false on 6.0.
	LAddr    string
	HasLAddr bool
	Flags    string
	// User is the client's ACL user (6.0+); HasUser is false before.
	User    string
	HasUser bool
}

// Transports, the values of the "transport" label.
const (
	TransportTCP  = "tcp"
	TransportTLS  = "tls"
	TransportUnix = "unix"
	// TransportUnknown: a TCP client of a server with a TLS port, on a
	// version without laddr (6.0), cannot be told apart.
	TransportUnknown = "unknown"
)

// NetworkUnknown is the network of an address that does not parse.
const NetworkUnknown = "unknown"

// maxLineFields bounds the fields read per line: real lines have about 30.
const maxLineFields = 256

// Parse parses the reply of CLIENT LIST as go-redis returns it in RESP2 (a
// bulk string). A line without a numeric id or an addr makes the whole reply
// unusable: counts built from part of it would be wrong without saying so.
func Parse(reply any) ([]Client, error) {
	s, ok := reply.(string)
	if !ok {
		return nil, fmt.Errorf("CLIENT LIST: unexpected reply type %T", reply)
	}
	// Iterated, not split: a slice of every line and then of every field
	// was most of what a scrape of a few clients allocated.
	// Room for the lines a reply of this size can hold (a valid line has
	// id=, addr= and flags=): a reply of blank lines must not reserve a
	// Client per byte.
	out := make([]Client, 0, min(strings.Count(s, "\n")+1, len(s)/24+1))
	n := -1
	for line := range strings.SplitSeq(s, "\n") {
		n++
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		c, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLIENT LIST: line %d: %w", n+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseLine(line string) (Client, error) {
	var c Client
	var hasID, hasAddr, hasFlags bool
	i := -1
	for f := range strings.SplitSeq(line, " ") {
		if i++; i >= maxLineFields {
			break
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			// Not a field (e.g. an empty one from two spaces): skip it.
			continue
		}
		// The first occurrence of a key wins. The values a client chooses
		// (name, lib-name, lib-ver) may not contain spaces (CLIENT SETNAME
		// and SETINFO refuse them), so they cannot add a field; lib-name and
		// lib-ver also come after user=.
		switch k {
		case "id":
			if hasID {
				continue
			}
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, fmt.Errorf("id %q is not a number", v)
			}
			c.ID, hasID = id, true
		case "addr":
			if !hasAddr {
				c.Addr, hasAddr = v, true
			}
		case "laddr":
			if !c.HasLAddr {
				c.LAddr, c.HasLAddr = v, true
			}
		case "flags":
			if !hasFlags {
				c.Flags, hasFlags = v, true
			}
		case "user":
			if !c.HasUser {
				c.User, c.HasUser = v, true
			}
		}
	}
	if !hasID {
		return c, fmt.Errorf("no id field")
	}
	if !hasAddr {
		return c, fmt.Errorf("no addr field")
	}
	return c, nil
}

// Unix reports whether the client is connected through the unix socket
// (flag U).
func (c Client) Unix() bool { return strings.ContainsRune(c.Flags, 'U') }

// Transport classifies the client's connection: unix (flag U), tls (the
// local port is the server's tls-port), tcp. tlsPort <= 0 means the server
// has no TLS port, so every TCP client is plaintext.
func (c Client) Transport(tlsPort int) string {
	switch {
	case c.Unix():
		return TransportUnix
	case tlsPort <= 0:
		return TransportTCP
	case !c.HasLAddr:
		return TransportUnknown
	}
	_, port, ok := splitHostPort(c.LAddr)
	if !ok {
		return TransportUnknown
	}
	if port == strconv.Itoa(tlsPort) {
		return TransportTLS
	}
	return TransportTCP
}

// Network classifies the peer address: loopback, private (RFC 1918, RFC
// 4193, link-local) or public. A unix socket client is on the server's own
// host: loopback. An address that does not parse is "unknown".
func (c Client) Network() string {
	if c.Unix() {
		return string(netclass.Loopback)
	}
	host, _, ok := splitHostPort(c.Addr)
	if !ok {
		return NetworkUnknown
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return NetworkUnknown
	}
	return string(netclass.Classify(ip))
}

// splitHostPort splits "1.2.3.4:5", "[::1]:5" and, leniently, "::1:5" (the
// last colon separates the port).
func splitHostPort(a string) (host, port string, ok bool) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = a[:i], a[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", false
	}
	return host, port, true
}
