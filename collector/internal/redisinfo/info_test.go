package redisinfo_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// samplesDir holds the recorded replies (copied from the design samples so
// that the tests do not depend on anything outside the module).
const samplesDir = "../../testdata/samples"

var sampleVersions = []string{"redis-6.2", "redis-7.0", "redis-7.2", "redis-7.4", "valkey-8.0", "redis-8.0", "valkey-8.1", "valkey-9.1"}

// sampleInfo returns the INFO ALL text recorded from version.
func sampleInfo(tb testing.TB, version string) string {
	tb.Helper()
	res, err := redistest.ReadSample(samplesDir, version, "info_all")
	if err != nil {
		tb.Fatalf("%s: %v", version, err)
	}
	s, ok := res.Value.(string)
	if !ok || res.Err != nil {
		tb.Fatalf("%s: INFO sample is %T (err %v), want a bulk string", version, res.Value, res.Err)
	}
	return s
}

func TestParseFields(t *testing.T) {
	// CRLF as sent by the server, a field whose value holds colons (an IPv6
	// master_host), an empty value, and lines the parser must skip.
	in := redisinfo.Parse("# Server\r\n" +
		"redis_version:7.0.15\r\n" +
		"availability_zone:\r\n" +
		"no colon here\r\n" +
		":value without key\r\n" +
		"\r\n" +
		"# Replication\r\n" +
		"master_host:::1\r\n" +
		"master_port:6379") // no final CRLF

	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"redis_version", "7.0.15", true}, // no trailing \r
		{"availability_zone", "", true},   // present but empty is not missing
		{"master_host", "::1", true},      // split at the first colon only
		{"master_port", "6379", true},     // last line without newline
		{"no colon here", "", false},
		{"", "", false},
		{"missing", "", false},
	} {
		got, ok := in.Get(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}

	// Plain LF works as well as CRLF.
	if v, ok := redisinfo.Parse("a:1\nb:2\n").Get("b"); !ok || v != "2" {
		t.Errorf("LF-only reply: Get(b) = %q, %v", v, ok)
	}
}

func TestParseSections(t *testing.T) {
	in := redisinfo.Parse("# Server\r\nx:1\r\n#  Errorstats  \r\n#\r\n# \r\n#Keyspace\r\n")
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"server", true},
		{"Server", true},     // case-insensitive
		{"ERRORSTATS", true}, // surrounding spaces trimmed
		{"errorstats", true},
		{"keyspace", true}, // no space after '#'
		{"", false},        // a bare "#" is no section
		{"modules", false},
	} {
		if got := in.HasSection(tc.name); got != tc.want {
			t.Errorf("HasSection(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A header line is not a field.
	if _, ok := in.Get("# Server"); ok {
		t.Error("section header stored as a field")
	}
}

func TestFloat(t *testing.T) {
	in := redisinfo.Parse("rejected_connections:12\r\nmem_fragmentation_ratio:9.25\r\nrole:master\r\nempty:\r\n")
	for _, tc := range []struct {
		key  string
		want float64
		ok   bool
	}{
		{"rejected_connections", 12, true},
		{"mem_fragmentation_ratio", 9.25, true},
		{"role", 0, false},  // not a number
		{"empty", 0, false}, // empty is not zero
		{"missing", 0, false},
	} {
		got, ok := in.Float(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Float(%q) = %v, %v; want %v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeys(t *testing.T) {
	in := redisinfo.Parse("acl_access_denied_auth:1\r\nacl_access_denied_cmd:2\r\nacl_other:3\r\n")
	got := in.Keys("acl_access_denied_")
	slices.Sort(got)
	if want := []string{"acl_access_denied_auth", "acl_access_denied_cmd"}; !slices.Equal(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
	if got := in.Keys("nothing"); len(got) != 0 {
		t.Errorf("Keys(nothing) = %v", got)
	}
}

func TestErrorCount(t *testing.T) {
	const pre62 = "# Server\r\nredis_version:6.0.20\r\n# Stats\r\ntotal_error_replies:3\r\n"
	for _, tc := range []struct {
		name, info, code string
		want             float64
		ok               bool
	}{
		{"6.2 sample WRONGPASS", sampleInfo(t, "redis-6.2"), "WRONGPASS", 4, true},
		{"6.2 sample NOAUTH", sampleInfo(t, "redis-6.2"), "NOAUTH", 1, true},
		{"6.2 sample NOPERM", sampleInfo(t, "redis-6.2"), "NOPERM", 2, true},
		// The section exists, so a code that never occurred is a real 0.
		{"6.2 sample code never seen", sampleInfo(t, "redis-6.2"), "ERR", 0, true},
		{"valkey sample WRONGPASS", sampleInfo(t, "valkey-8.0"), "WRONGPASS", 4, true},
		// Before 6.2 there is no errorstats section: unknown, not 0.
		{"no section", pre62, "WRONGPASS", 0, false},
		{"fields without section header", "errorstat_WRONGPASS:count=5\r\n", "WRONGPASS", 0, false},
		{"empty section", "# Errorstats\r\n", "NOAUTH", 0, true},
		// 7.4+ stops counting after 128 distinct codes: every count is
		// frozen or missing, so none is trustworthy.
		{"disabled, code present", "# Errorstats\r\nerrorstat_ERRORSTATS_DISABLED:count=1\r\nerrorstat_WRONGPASS:count=3\r\n", "WRONGPASS", 0, false},
		{"disabled, code absent", "# Errorstats\r\nerrorstat_ERRORSTATS_DISABLED:count=1\r\n", "NOAUTH", 0, false},
		{"malformed count", "# Errorstats\r\nerrorstat_WRONGPASS:count=x\r\n", "WRONGPASS", 0, false},
		{"no count key", "# Errorstats\r\nerrorstat_WRONGPASS:calls=3\r\n", "WRONGPASS", 0, false},
		{"count not first", "# Errorstats\r\nerrorstat_WRONGPASS:foo=1,count=7\r\n", "WRONGPASS", 7, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := redisinfo.Parse(tc.info).ErrorCount(tc.code)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ErrorCount(%q) = %v, %v; want %v, %v", tc.code, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSubFields(t *testing.T) {
	p := redisinfo.SubFields("name=tcp,bind=127.0.0.1,bind=-::1,port=6379,flag")
	want := redisinfo.Pairs{{"name", "tcp"}, {"bind", "127.0.0.1"}, {"bind", "-::1"}, {"port", "6379"}, {"flag", ""}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("SubFields = %#v, want %#v", p, want)
	}
	if got := p.First("bind"); got != "127.0.0.1" {
		t.Errorf("First(bind) = %q", got)
	}
	if got := p.First("missing"); got != "" {
		t.Errorf("First(missing) = %q", got)
	}
	if got := p.All("bind"); !slices.Equal(got, []string{"127.0.0.1", "-::1"}) {
		t.Errorf("All(bind) = %q", got)
	}
	if got := p.All("missing"); got != nil {
		t.Errorf("All(missing) = %q", got)
	}
}
