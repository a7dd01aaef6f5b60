// Package acllog parses ACL LOG replies and turns the log, a bounded list of
// entries whose counts grow as events merge into them, into monotonic event
// counters without counting an event twice.
//
// ACL LOG entries hold attacker-chosen strings (attempted user names, key
// names in "object", client names in client-info). Only the reason, an
// existing user's name and the client IP leave this package.
package acllog

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Entry is one ACL LOG entry.
type Entry struct {
	Count    int64
	Reason   string // auth, command, key, channel (6.2+), ...
	Context  string // toplevel, multi, lua, module (7.0+)
	Object   string // never exported: may hold key names
	Username string // attempted or authenticated user name: attacker-chosen for auth
	// AgeSeconds is the time since the entry was last updated.
	AgeSeconds float64
	// Source is the client's IP (no port), "unix" for unix sockets, or
	// "unknown".
	Source string
	// 7.2+ / Valkey: a unique, never reused id and the entry's timestamps.
	HasEntryID        bool
	EntryID           int64
	CreatedMillis     int64
	LastUpdatedMillis int64
}

// Parse parses the reply of ACL LOG <count> as go-redis returns it in RESP2.
func Parse(reply any) ([]Entry, error) {
	arr, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("ACL LOG: unexpected reply type %T", reply)
	}
	entries := make([]Entry, 0, len(arr))
	for i, raw := range arr {
		fields, ok := raw.([]any)
		if !ok || len(fields)%2 != 0 {
			return nil, fmt.Errorf("ACL LOG: entry %d is not a field/value list", i)
		}
		var e Entry
		var hasCreated, hasCount bool
		for j := 0; j < len(fields); j += 2 {
			name, ok := fields[j].(string)
			if !ok {
				return nil, fmt.Errorf("ACL LOG: entry %d: field name %d is %T", i, j/2, fields[j])
			}
			v := fields[j+1]
			var err error
			switch name {
			case "count":
				e.Count, err = integer(v)
				hasCount = true
			case "reason":
				e.Reason, err = str(v)
			case "context":
				e.Context, err = str(v)
			case "object":
				e.Object, err = str(v)
			case "username":
				e.Username, err = str(v)
			case "age-seconds":
				var s string
				if s, err = str(v); err == nil {
					e.AgeSeconds, err = strconv.ParseFloat(s, 64)
				}
			case "client-info":
				var s string
				if s, err = str(v); err == nil {
					e.Source = sourceOf(s)
				}
			case "entry-id":
				e.EntryID, err = integer(v)
				e.HasEntryID = true
			case "timestamp-created":
				e.CreatedMillis, err = integer(v)
				hasCreated = true
			case "timestamp-last-updated":
				e.LastUpdatedMillis, err = integer(v)
			}
			if err != nil {
				return nil, fmt.Errorf("ACL LOG: entry %d: field %s: %w", i, name, err)
			}
		}
		if !hasCount || e.Count < 0 || e.Reason == "" {
			return nil, fmt.Errorf("ACL LOG: entry %d lacks count or reason", i)
		}
		if e.HasEntryID && !hasCreated {
			return nil, fmt.Errorf("ACL LOG: entry %d has an entry-id but no timestamp-created", i)
		}
		if e.Source == "" {
			e.Source = "unknown"
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("not a string (%T)", v)
	}
	return s, nil
}

func integer(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case string: // RESP3 proxies and some clients
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("not an integer (%T)", v)
}

// sourceOf extracts the client IP from client-info ("id=4 addr=1.2.3.4:5678
// laddr=..."). Anything that is not a plain IP becomes "unix" or "unknown", so
// the value is safe as a label.
func sourceOf(clientInfo string) string {
	for _, f := range strings.Fields(clientInfo) {
		addr, ok := strings.CutPrefix(f, "addr=")
		if !ok {
			continue
		}
		if strings.HasPrefix(addr, "/") {
			return "unix"
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			// IPv6 without brackets: "::1:5678".
			i := strings.LastIndexByte(addr, ':')
			if i < 0 {
				return "unknown"
			}
			host = addr[:i]
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return "unknown"
		}
		return ip.Unmap().WithZone("").String()
	}
	return "unknown"
}
