package redisinfo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Flavor names the server implementation.
type Flavor string

// Server flavours.
const (
	FlavorRedis  Flavor = "redis"
	FlavorValkey Flavor = "valkey"
)

// Version is a server release number.
type Version struct{ Major, Minor, Patch int }

// ParseVersion parses "7.2.4" (extra components and suffixes are ignored:
// "7.2.4-rc1" is 7.2.4).
func ParseVersion(s string) (Version, error) {
	var v Version
	parts := strings.SplitN(s, ".", 4)
	if len(parts) < 2 {
		return v, fmt.Errorf("version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		digits := parts[i]
		if j := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			if i < 2 && j == 0 {
				return Version{}, fmt.Errorf("version %q: component %d is not a number", s, i+1)
			}
			digits = digits[:j]
		}
		if digits == "" {
			break
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n > 1<<20 {
			return Version{}, fmt.Errorf("version %q: component %d is not a number", s, i+1)
		}
		*nums[i] = n
	}
	return v, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Server identifies the server from the INFO server section.
type Server struct {
	Flavor Flavor
	// Version is the flavour's own version: Valkey reports redis_version:7.2.4
	// for compatibility and its real version in valkey_version.
	Version Version
	// CompatVersion is the Redis version whose behaviour the server follows
	// (redis_version; the same as Version on Redis).
	CompatVersion Version
	RunID         string
	Mode          string // standalone, cluster or sentinel
	Role          string // master or replica ("" when the replication section is absent)
}

// Server extracts identity. It fails when redis_version is missing or
// malformed, because nothing version-dependent can be decided without it.
func (in *Info) Server() (Server, error) {
	var s Server
	rv, ok := in.Get("redis_version")
	if !ok {
		return s, fmt.Errorf("INFO has no redis_version field")
	}
	compat, err := ParseVersion(rv)
	if err != nil {
		return s, err
	}
	s.Flavor, s.Version, s.CompatVersion = FlavorRedis, compat, compat
	if name, _ := in.Get("server_name"); name == "valkey" {
		s.Flavor = FlavorValkey
		if vv, ok := in.Get("valkey_version"); ok {
			if s.Version, err = ParseVersion(vv); err != nil {
				return s, err
			}
		}
	}
	s.RunID, _ = in.Get("run_id")
	if m, ok := in.Get("redis_mode"); ok {
		s.Mode = m
	} else if m, ok := in.Get("server_mode"); ok { // Valkey 8 renamed it
		s.Mode = m
	}
	if r, ok := in.Get("role"); ok {
		s.Role = r
		if r == "slave" {
			s.Role = "replica"
		}
	}
	return s, nil
}

// Listener is one listening endpoint from the INFO listenerN lines (7.2+).
type Listener struct {
	Transport string // tcp, tls or unix
	Address   string // bind address without Redis's "-" (optional) prefix, or socket path
	Port      string // "" for unix sockets
}

// Listeners returns the INFO listener lines; ok is false when the server has
// none (before 7.2), so the caller falls back to CONFIG.
func (in *Info) Listeners() (ls []Listener, ok bool) {
	keys := in.Keys("listener")
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := strconv.Atoi(strings.TrimPrefix(k, "listener")); err != nil {
			continue
		}
		ok = true
		p := SubFields(in.fields[k])
		transport, port := p.First("name"), p.First("port")
		if transport == "unix" {
			// The unix listener is "name=unix,bind=<path>" with the path
			// as given and no port: a path may hold commas, so the address
			// is the rest of the line, not one comma-separated field.
			if _, path, found := strings.Cut(in.fields[k], ",bind="); found {
				if i := strings.LastIndex(path, ",port="); i >= 0 && isDigits(path[i+len(",port="):]) {
					path = path[:i]
				}
				ls = append(ls, Listener{Transport: transport, Address: path})
			}
			continue
		}
		for _, b := range p.All("bind") {
			ls = append(ls, Listener{Transport: transport, Address: strings.TrimPrefix(b, "-"), Port: port})
		}
	}
	return ls, ok
}

// Module is one loaded module.
type Module struct{ Name, Version string }

// Modules returns the modules of the "# Modules" section
// (module:name=search,ver=20812,...). ok is false when the section is absent.
func (in *Info) Modules() (ms []Module, ok bool) {
	if !in.HasSection("modules") {
		return nil, false
	}
	for _, v := range in.modules {
		p := SubFields(v)
		ms = append(ms, Module{Name: p.First("name"), Version: p.First("ver")})
	}
	return ms, true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
