// Package commandlog parses the replies of Valkey's COMMANDLOG (8.1+), the
// successor of SLOWLOG that also logs large requests and large replies.
//
// An entry's arguments, client address and client name are chosen by the
// client that sent the command (they may hold key names, values, or bytes
// made to look like anything): only the id, the timestamp and the measured
// value leave this package, and no error repeats a string of the reply.
package commandlog

import "fmt"

// Types are COMMANDLOG's log types, as COMMANDLOG GET and LEN take them.
var Types = []string{"slow", "large-request", "large-reply"}

// Entry is one COMMANDLOG entry.
type Entry struct {
	// ID numbers the entries of one type from 0, in order; it is never
	// reused, and COMMANDLOG RESET does not restart it (verified on Valkey
	// 8.1.1 and 9.1.2), so the newest ID + 1 is how many entries the type
	// has logged since the server started.
	ID int64
	// Timestamp is the Unix time, in seconds, the command was logged.
	Timestamp int64
	// Value is the execution time in microseconds (slow) or the size in
	// bytes (large-request, large-reply).
	Value int64
}

// Parse parses the reply of COMMANDLOG GET <count> <type>, newest entry
// first, as go-redis returns it in RESP2: one array per entry of id,
// timestamp, value, arguments, client address, client name (SLOWLOG GET's
// shape).
func Parse(reply any) ([]Entry, error) {
	arr, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("COMMANDLOG GET: unexpected reply type %T", reply)
	}
	entries := make([]Entry, 0, len(arr))
	for i, raw := range arr {
		fields, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("COMMANDLOG GET: entry %d is %T, not an array", i, raw)
		}
		if len(fields) < 3 {
			return nil, fmt.Errorf("COMMANDLOG GET: entry %d has %d fields, want at least 3", i, len(fields))
		}
		var e Entry
		for j, dst := range []*int64{&e.ID, &e.Timestamp, &e.Value} {
			v, ok := fields[j].(int64)
			if !ok {
				return nil, fmt.Errorf("COMMANDLOG GET: entry %d: field %d is %T, not an integer", i, j, fields[j])
			}
			if v < 0 {
				return nil, fmt.Errorf("COMMANDLOG GET: entry %d: field %d is negative", i, j)
			}
			*dst = v
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// ParseLen parses the reply of COMMANDLOG LEN <type>.
func ParseLen(reply any) (int64, error) {
	n, ok := reply.(int64)
	if !ok {
		return 0, fmt.Errorf("COMMANDLOG LEN: unexpected reply type %T", reply)
	}
	if n < 0 {
		return 0, fmt.Errorf("COMMANDLOG LEN: negative length %d", n)
	}
	return n, nil
}
