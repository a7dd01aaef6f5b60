package exporter

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Address is a parsed Redis target address.
type Address struct {
	// Network is "tcp" or "unix".
	Network string
	// Addr is host:port, or the socket path for unix.
	Addr string
	// TLS is true for rediss://.
	TLS bool
	// Host is the host name for TLS verification ("" for unix).
	Host string
}

// String is the address as shown in logs: never with credentials, which
// ParseAddress rejects anyway.
func (a Address) String() string {
	switch {
	case a.Network == "unix":
		return "unix://" + a.Addr
	case a.TLS:
		return "rediss://" + a.Addr
	default:
		return "redis://" + a.Addr
	}
}

// ParseAddress parses host:port, redis://host[:port], rediss://host[:port]
// or unix:///path. Credentials in the address are refused: a password in a
// flag shows in ps and in a URL ends up in logs; use --redis.user and
// REDIS_PASSWORD or --redis.password-file. Errors never quote the address:
// a refused one may carry a password (redis://host?password=..., or a
// mistyped userinfo).
func ParseAddress(s string) (Address, error) {
	if s == "" {
		return Address{}, errors.New("redis address is empty")
	}
	if !strings.Contains(s, "://") {
		s = "redis://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse errors quote the input, which may carry a password.
		return Address{}, errors.New("redis address is not a valid URL or host:port")
	}
	if u.User != nil {
		return Address{}, errors.New("redis address must not contain credentials: use --redis.user and REDIS_PASSWORD or --redis.password-file")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Address{}, errors.New("redis address: query parameters and fragments are not supported (and may carry secrets): use host:port and the --redis.* flags")
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || u.Path == "" {
			return Address{}, errors.New("redis address: want unix:///absolute/path/to/redis.sock")
		}
		return Address{Network: "unix", Addr: u.Path}, nil
	case "redis", "rediss":
		if u.Path != "" && u.Path != "/" && u.Path != "/0" {
			return Address{}, errors.New("redis address: a database number is not needed (security settings are server-wide)")
		}
		host, port := u.Hostname(), u.Port()
		if host == "" {
			return Address{}, errors.New("redis address has no host")
		}
		if port == "" {
			port = "6379"
		}
		// url.Parse takes any digits for a port; 0 and 65536+ would start
		// an exporter whose every scrape fails.
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Address{}, errors.New("redis address: the port must be 1 to 65535")
		}
		return Address{Network: "tcp", Addr: net.JoinHostPort(host, port), TLS: u.Scheme == "rediss", Host: host}, nil
	default:
		// Not quoted either: the scheme is part of the address, which
		// /probe callers choose (and a mistyped one may be anything).
		return Address{}, errors.New("redis address: the scheme is not one of redis, rediss, unix")
	}
}
