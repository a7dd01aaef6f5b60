package redisinfo_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// FuzzParse feeds arbitrary INFO text to every accessor the collectors use.
// INFO comes from the network; a panic here would fail a whole collector.
func FuzzParse(f *testing.F) {
	for _, v := range sampleVersions {
		f.Add(sampleInfo(f, v))
	}
	f.Add("# Errorstats\r\nerrorstat_ERRORSTATS_DISABLED:count=1\r\nerrorstat_WRONGPASS:count=3\r\n")
	f.Add("redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\nserver_mode:cluster\r\nrole:slave\r\n")
	f.Add("listener0:name=unix,bind=/tmp/s,port=0\r\nlistener1:name=tcp,bind=-,bind=--::1\r\n# Modules\r\nmodule:\r\nmodule:name=x,ver\r\n")

	// An Info that held another reply first (fields, sections and modules
	// that s may lack), for ParseInto.
	other := "redis_version:6.2.0\r\nzz_only_other:1\r\n# Modules\r\nmodule:name=other,ver=1\r\n# Keyspace\r\n"
	f.Fuzz(func(t *testing.T, s string) {
		in := redisinfo.Parse(s)
		reused := redisinfo.ParseInto(redisinfo.Parse(other), s)
		if got, want := describeInfo(reused), describeInfo(in); got != want {
			t.Fatalf("ParseInto over another reply:\n%s\nParse:\n%s", got, want)
		}
		if srv, err := in.Server(); err == nil {
			// A version that parsed must print as something that parses
			// back to itself: it becomes the version label.
			for _, v := range []redisinfo.Version{srv.Version, srv.CompatVersion} {
				back, err := redisinfo.ParseVersion(v.String())
				if err != nil || back != v {
					t.Fatalf("version %v does not round-trip: %v, %v", v, back, err)
				}
			}
			if srv.Role == "slave" {
				t.Fatal("role slave not mapped to replica")
			}
		}
		ls, ok := in.Listeners()
		if !ok && len(ls) != 0 {
			t.Fatalf("Listeners() returned %d listeners with ok=false", len(ls))
		}
		for _, l := range ls {
			if l.Transport == "unix" && l.Port != "" {
				t.Fatalf("unix listener with port %q", l.Port)
			}
		}
		ms, ok := in.Modules()
		if ok != in.HasSection("modules") || (!ok && ms != nil) {
			t.Fatalf("Modules() = %v, %v with section %v", ms, ok, in.HasSection("modules"))
		}
		for _, code := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "ERRORSTATS_DISABLED"} {
			if _, ok := in.ErrorCount(code); ok && !in.HasSection("errorstats") {
				t.Fatalf("ErrorCount(%s) ok without an errorstats section", code)
			}
		}
		// Stored values never carry the line terminator.
		for _, k := range in.Keys("") {
			if v, _ := in.Get(k); strings.ContainsAny(k+v, "\n") || strings.HasSuffix(v, "\r") {
				t.Fatalf("field %q = %q keeps a line terminator", k, v)
			}
		}
	})
}

// FuzzParseVersion checks that ParseVersion never panics and that what it
// accepts is a sane version.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"7.2.4", "8.0", "7.2.4-rc1", "", "x.y", "6.2.16", "255.255.255.255", "1.2.-3", "7..1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := redisinfo.ParseVersion(s)
		if err != nil {
			if v != (redisinfo.Version{}) {
				t.Fatalf("ParseVersion(%q) failed but returned %v", s, v)
			}
			return
		}
		for _, n := range []int{v.Major, v.Minor, v.Patch} {
			if n < 0 || n > 1<<20 {
				t.Fatalf("ParseVersion(%q) = %v: component out of range", s, v)
			}
		}
		if back, err := redisinfo.ParseVersion(v.String()); err != nil || back != v {
			t.Fatalf("ParseVersion(%q) = %v does not round-trip: %v, %v", s, v, back, err)
		}
	})
}

// describeInfo prints what an Info holds, for comparisons.
func describeInfo(in *redisinfo.Info) string {
	var b strings.Builder
	keys := in.Keys("")
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := in.Get(k)
		fmt.Fprintf(&b, "%q=%q\n", k, v)
	}
	ms, ok := in.Modules()
	fmt.Fprintf(&b, "modules %v %v\n", ms, ok)
	for _, sec := range []string{"server", "modules", "keyspace", "errorstats", "commandstats"} {
		fmt.Fprintf(&b, "%s %v\n", sec, in.HasSection(sec))
	}
	return b.String()
}
