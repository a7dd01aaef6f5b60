// Package redisinfo parses the reply of the Redis/Valkey INFO command.
//
// INFO is a text reply of "# Section" headers and "key:value" lines. Fields
// differ between versions and flavours, so the parser keeps everything and the
// callers ask for what they need; a missing field is reported as missing, never
// as zero, because the exporter omits metrics whose source a server lacks.
package redisinfo

import (
	"strconv"
	"strings"
)

// Info is a parsed INFO reply.
type Info struct {
	fields   map[string]string
	sections map[string]bool
	// modules keeps every "module:" line: the key repeats once per module.
	modules []string
}

// Parse parses an INFO reply. It never fails: lines it does not understand are
// skipped, so a new server version with new fields cannot break a scrape.
func Parse(s string) *Info { return ParseInto(nil, s) }

// ParseInto is Parse into in (nil: a new Info), whose maps it empties and
// reuses: a reply parsed every scrape need not allocate its maps anew.
func ParseInto(in *Info, s string) *Info {
	if in == nil || in.fields == nil {
		in = &Info{fields: make(map[string]string, 128), sections: make(map[string]bool, 16)}
	} else {
		in.Reset()
	}
	for len(s) > 0 {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == '#' {
			name := strings.ToLower(strings.TrimSpace(line[1:]))
			if name != "" {
				in.sections[name] = true
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		if k == "module" {
			in.modules = append(in.modules, v)
			continue
		}
		in.fields[k] = v
	}
	return in
}

// Reset empties in, keeping its maps' room (and no reference to the reply
// it held).
func (in *Info) Reset() {
	clear(in.fields)
	clear(in.sections)
	clear(in.modules)
	in.modules = in.modules[:0]
}

// Size is the number of fields and module lines in.
func (in *Info) Size() int { return len(in.fields) + len(in.modules) }

// HasSection reports whether the reply contained the "# name" header
// (case-insensitive), e.g. "errorstats", which only exists from 6.2 on.
func (in *Info) HasSection(name string) bool { return in.sections[strings.ToLower(name)] }

// Get returns the raw value of a field.
func (in *Info) Get(key string) (string, bool) {
	v, ok := in.fields[key]
	return v, ok
}

// Float returns a numeric field. ok is false when the field is missing or not
// a number.
func (in *Info) Float(key string) (float64, bool) {
	v, ok := in.fields[key]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// Keys returns the field names that start with prefix.
func (in *Info) Keys(prefix string) []string {
	var keys []string
	for k := range in.fields {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys
}

// ErrorCount returns the count of errorstat_<code>. ok is false when the
// server has no errorstats section (before 6.2) or stopped tracking error codes
// (7.4+ after more than 128 distinct codes: errorstat_ERRORSTATS_DISABLED).
// A code that never occurred is a real zero and reported with ok true.
func (in *Info) ErrorCount(code string) (float64, bool) {
	if !in.HasSection("errorstats") {
		return 0, false
	}
	if _, disabled := in.fields["errorstat_ERRORSTATS_DISABLED"]; disabled {
		return 0, false
	}
	v, ok := in.fields["errorstat_"+code]
	if !ok {
		return 0, true
	}
	sub := SubFields(v)
	n, err := strconv.ParseFloat(sub.First("count"), 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Pair is one key=value element of a composite INFO value.
type Pair struct{ Key, Value string }

// Pairs is a composite INFO value such as
// "name=tcp,bind=127.0.0.1,bind=-::1,port=6379", in order, keys repeatable.
type Pairs []Pair

// SubFields splits a composite INFO value on commas and '='.
func SubFields(v string) Pairs {
	var out Pairs
	for _, part := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(part, "=")
		out = append(out, Pair{Key: k, Value: val})
	}
	return out
}

// First returns the value of the first element named key, or "".
func (p Pairs) First(key string) string {
	for _, e := range p {
		if e.Key == key {
			return e.Value
		}
	}
	return ""
}

// All returns the values of every element named key.
func (p Pairs) All(key string) []string {
	var out []string
	for _, e := range p {
		if e.Key == key {
			out = append(out, e.Value)
		}
	}
	return out
}
