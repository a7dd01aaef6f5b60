package processmetrics

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// procStat is what the collector reads of /proc/<pid>/stat.
type procStat struct {
	utime, stime uint64 // clock ticks
	starttime    uint64 // clock ticks after boot
	vsize        uint64 // bytes
	rss          int64  // pages
}

// parseStat parses /proc/<pid>/stat (proc(5)). The command name, field 2,
// is in parentheses and may hold spaces and parentheses itself: the fields
// after it start after the last ')'.
func parseStat(data []byte) (procStat, error) {
	r := bytes.LastIndexByte(data, ')')
	if r < 0 || bytes.IndexByte(data, '(') < 0 {
		return procStat{}, errors.New("stat: no command name in parentheses")
	}
	// Fields 3 ... 24 of proc(5); fields[0] is field 3 (state).
	const (
		utime     = 14 - 3
		stime     = 15 - 3
		starttime = 22 - 3
		vsize     = 23 - 3
		rss       = 24 - 3
	)
	var fields [rss + 1][]byte
	rest := bytes.TrimLeft(data[r+1:], " ")
	for i := range fields {
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return procStat{}, fmt.Errorf("stat: %d fields after the command name, want at least %d", i, len(fields))
		}
		fields[i] = rest[:end]
		rest = bytes.TrimLeft(rest[end:], " \n")
	}
	var s procStat
	var ok [5]bool
	s.utime, ok[0] = parseUint(fields[utime])
	s.stime, ok[1] = parseUint(fields[stime])
	s.starttime, ok[2] = parseUint(fields[starttime])
	s.vsize, ok[3] = parseUint(fields[vsize])
	s.rss, ok[4] = parseInt(fields[rss])
	for _, o := range ok {
		if !o {
			return procStat{}, errors.New("stat: a field is not a number")
		}
	}
	return s, nil
}

// parseBootTime returns the btime line of /proc/stat: seconds since the
// epoch at boot.
func parseBootTime(data []byte) (uint64, error) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if v, found := bytes.CutPrefix(line, []byte("btime ")); found {
			if n, ok := parseUint(bytes.TrimSpace(v)); ok {
				return n, nil
			}
			return 0, errors.New("stat: btime is not a number")
		}
	}
	return 0, errors.New("stat: no btime line")
}

// parseNetstat returns IpExt's InOctets and OutOctets from
// /proc/<pid>/net/netstat: pairs of lines, names then values, each starting
// with the protocol ("IpExt: InNoRoutes ... InOctets OutOctets ..."). As
// procfs, a missing IpExt or counter reads 0, and a pair whose lines differ
// in length is an error.
func parseNetstat(data []byte) (in, out float64, err error) {
	for len(data) > 0 {
		var names, values []byte
		names, data = nextLine(data)
		if len(bytes.TrimSpace(names)) == 0 {
			continue
		}
		values, data = nextLine(data)
		if !bytes.HasPrefix(names, []byte("IpExt:")) {
			continue
		}
		nf, vf := bytes.Fields(names), bytes.Fields(values)
		if len(nf) != len(vf) || !bytes.Equal(nf[0], vf[0]) {
			return 0, 0, errors.New("netstat: IpExt's names and values do not pair up")
		}
		for i := 1; i < len(nf); i++ {
			var dst *float64
			switch string(nf[i]) {
			case "InOctets":
				dst = &in
			case "OutOctets":
				dst = &out
			default:
				continue
			}
			v, err := strconv.ParseFloat(string(vf[i]), 64)
			if err != nil {
				return 0, 0, fmt.Errorf("netstat: IpExt %s is not a number", nf[i])
			}
			*dst = v
		}
		return in, out, nil
	}
	return 0, 0, nil
}

func nextLine(data []byte) (line, rest []byte) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:]
	}
	return data, nil
}

// parseUint parses decimal digits without allocating (strconv needs a
// string). It refuses empty input and overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt is parseUint with an optional minus sign, within int64.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, ok := parseUint(b)
	if !ok || n > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
