package netclass

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want Class
	}{
		{"127.0.0.1", Loopback},
		{"127.0.0.2", Loopback}, // all of 127/8
		{"127.255.255.254", Loopback},
		{"::1", Loopback},
		{"::ffff:127.0.0.1", Loopback}, // IPv4-mapped, as dual-stack sockets report it
		{"10.0.0.1", Private},
		{"10.255.255.255", Private},
		{"172.16.0.1", Private},
		{"172.31.255.255", Private},
		{"172.32.0.1", Public}, // just outside 172.16/12
		{"172.15.255.255", Public},
		{"192.168.1.10", Private},
		{"192.169.0.1", Public},
		{"::ffff:10.1.2.3", Private},
		{"fd00::1", Private}, // RFC 4193 unique-local
		{"fc00::1", Private},
		{"fe80::1", Private}, // link-local
		{"fe80::1%eth0", Private},
		{"169.254.10.1", Private},
		{"8.8.8.8", Public},
		{"::ffff:8.8.8.8", Public},
		{"2001:4860:4860::8888", Public},
		{"100.64.0.1", Public}, // carrier-grade NAT is not RFC 1918
	} {
		a, err := netip.ParseAddr(tc.addr)
		if err != nil {
			t.Fatalf("bad test address %q: %v", tc.addr, err)
		}
		if got := Classify(a); got != tc.want {
			t.Errorf("Classify(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	// The zero Addr (an unparsable client address) must not be trusted as
	// loopback or private.
	if got := Classify(netip.Addr{}); got != Public {
		t.Errorf("Classify(zero) = %s, want public", got)
	}
}

// Bind addresses as they appear in CONFIG GET bind and INFO listener lines.
var bindCases = []struct {
	bind                string
	wildcard, reachable bool
}{
	// Wildcards, with and without Redis's "-" (optional address) prefix.
	{"*", true, true},
	{"-*", true, true},
	{"::*", true, true},
	{"-::*", true, true},
	{"0.0.0.0", true, true},
	{"::", true, true},
	{"", true, true}, // 6.x: no bind = every interface
	// Other spellings of the unspecified address listen everywhere too
	// (verified: redis-server "bind ::0" listens on [::]).
	{"::0", true, true},
	{"0:0:0:0:0:0:0:0", true, true},
	{"-::0", true, true},
	// Loopback only.
	{"127.0.0.1", false, false},
	{"-127.0.0.1", false, false},
	{"127.0.0.2", false, false},
	{"::1", false, false},
	{"-::1", false, false},
	{"::ffff:127.0.0.1", false, false},
	{"::1%lo", false, false},
	{"localhost", false, false},
	// Private addresses are still beyond loopback.
	{"10.0.0.1", false, true},
	{"172.16.5.4", false, true},
	{"192.168.0.10", false, true},
	{"fd00::1", false, true},
	{"fe80::1%eth0", false, true},
	{"-fe80::1%eth0", false, true},
	{"8.8.8.8", false, true},
	// Anything the exporter cannot prove to be loopback counts as exposed.
	{"redis.example.com", false, true},
	{"Localhost", false, true},
	{"not an address", false, true},
}

func TestIsWildcardBind(t *testing.T) {
	for _, tc := range bindCases {
		if got := IsWildcardBind(tc.bind); got != tc.wildcard {
			t.Errorf("IsWildcardBind(%q) = %v, want %v", tc.bind, got, tc.wildcard)
		}
	}
}

func TestBindReachableBeyondLoopback(t *testing.T) {
	for _, tc := range bindCases {
		if got := BindReachableBeyondLoopback(tc.bind); got != tc.reachable {
			t.Errorf("BindReachableBeyondLoopback(%q) = %v, want %v", tc.bind, got, tc.reachable)
		}
	}
}

// Every wildcard is reachable beyond loopback: bind_all_interfaces=1 with
// bind_non_loopback=0 would be a contradiction on a dashboard.
func FuzzBind(f *testing.F) {
	for _, tc := range bindCases {
		f.Add(tc.bind)
	}
	f.Fuzz(func(t *testing.T, bind string) {
		if IsWildcardBind(bind) && !BindReachableBeyondLoopback(bind) {
			t.Fatalf("%q is a wildcard but not reachable beyond loopback", bind)
		}
	})
}
