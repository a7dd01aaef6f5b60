package allowlist

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

func TestParseErrors(t *testing.T) {
	for _, p := range []string{
		"",
		"redis.internal",           // no port
		"redis.internal:0",         // port 0
		"redis.internal:65536",     // port too big
		"redis.internal:7005-7000", // reversed range
		"redis.internal:+6379",     // sign
		"redis://redis.internal:6379",
		"user:pw@redis.internal:6379",
		"redis.internal:6379?password=x",
		"*:6379",            // every single-label host
		"prod.*:6379",       // '*' as the top-level label
		"redis..internal:1", // empty label
		"fd00::1:6379:x",    // IPv6 with port needs brackets
		"[fd00::1:6379",
		"fe80::1%eth0",   // zone
		"10.0.0.0/33",    // bad prefix
		"10.0.0.0/8:abc", // bad port
		"host name:6379",
		"ho$t:6379",
		"10.0.*.5:6379", // an IP glob: the last label is a number
		"*.0.0.1:6379",
		"0x7f:6379",
	} {
		if _, err := Parse([]string{p}); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", p)
		}
	}
}

// TestParseErrorsHideURLs: a pattern that looks like a URL is named by its
// position, not quoted (it may hold a password); others are quoted.
func TestParseErrorsHideURLs(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		want     string
	}{
		{[]string{"10.0.0.0/8", "redis://default:Hunter2pw@10.0.0.5:6379"}, "allowed_targets entry 2 (not quoted"},
		{[]string{"default:Hunter2pw@10.0.0.5:6379"}, "allowed_targets entry 1 (not quoted"},
		{[]string{"10.0.0.5:6379?password=Hunter2pw"}, "allowed_targets entry 1 (not quoted"},
		{[]string{"10.0.0.5:6379#Hunter2pw"}, "allowed_targets entry 1 (not quoted"},
		{[]string{"redis.internal"}, `allowed_targets entry "redis.internal"`},
	} {
		_, err := Parse(tc.patterns)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.patterns, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "Hunter2pw") {
			t.Errorf("Parse(%q) quotes the password: %v", tc.patterns, err)
		}
	}
}

func TestDecide(t *testing.T) {
	l, err := Parse([]string{
		"10.0.0.0/8:6379",
		"192.0.2.7",
		"[fd00::/8]:7000-7005",
		"127.0.0.1:6379",
		"redis-*.prod.internal:6379",
		"*.cache.internal:*",
		"Exact.Example.COM.:7000",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		port int
		want Decision
	}{
		{"10.1.2.3", 6379, Allowed},
		{"10.1.2.3", 6380, Denied},
		{"11.1.2.3", 6379, Denied},
		{"::ffff:10.1.2.3", 6379, Allowed}, // IPv4-mapped
		{"192.0.2.7", 1, Allowed},          // bare address: every port
		{"192.0.2.8", 1, Denied},
		{"fd00::1", 7003, Allowed},
		{"fd00::1", 7006, Denied},
		{"fe80::1%eth0", 7000, Denied},
		{"127.0.0.1", 6379, Allowed},
		{"127.0.0.1", 1, Denied},
		{"127.0.0.2", 6379, Denied},
		{"redis-1.prod.internal", 6379, Allowed},
		{"REDIS-1.prod.internal.", 6379, Allowed},
		{"redis-.prod.internal", 6379, Allowed},        // '*' may be empty
		{"redis-1.prod.internal", 6380, NeedsLookup},   // 192.0.2.7 admits every port
		{"redis-1.x.prod.internal", 6379, NeedsLookup}, // '*' never crosses a dot; ranges admit 6379
		{"redis-1.prod.internal.evil.com", 6379, NeedsLookup},
		{"a.cache.internal", 1234, Allowed},
		{"a.b.cache.internal", 1234, NeedsLookup}, // only 192.0.2.7 could admit it
		{"exact.example.com", 7000, Allowed},
		{"exact.example.com", 7001, NeedsLookup}, // fd00::/8 admits 7001
		{"other.example.com", 7000, NeedsLookup},
		{"other.example.com", 1, NeedsLookup},
		{"localhost\x00.x", 6379, Denied},
		{"", 6379, Denied},
		{"10.1.2.3", 0, Denied},
		{"10.1.2.3", 70000, Denied},
	} {
		if got := l.Decide(tc.host, tc.port); got != tc.want {
			t.Errorf("Decide(%q, %d) = %v, want %v", tc.host, tc.port, got, tc.want)
		}
	}
	// Without an any-port range, a port no rule admits is settled at once.
	narrow, err := Parse([]string{"10.0.0.0/8:6379", "redis-*.prod.internal:6379"})
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"redis-1.prod.internal", "elsewhere.example", "10.1.2.3"} {
		if got := narrow.Decide(host, 6380); got != Denied {
			t.Errorf("narrow.Decide(%q, 6380) = %v, want Denied", host, got)
		}
	}
	// IPv4 addresses in inet_aton notation are neither names nor
	// addresses: no pattern admits them, no lookup is tried (a cgo resolver
	// reads them as 127.0.0.1 without asking DNS). Unspecified addresses
	// reach this host.
	wide, err := Parse([]string{"0.0.0.0/0", "::/0", "*.internal:*", "*.x1:*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "0x7F000001", "10.001.2.3", "a.0x1f", "127.0.0.1.",
		"0.0.0.0", "::", "::ffff:0.0.0.0"} {
		if got := wide.Decide(host, 6379); got != Denied {
			t.Errorf("wide.Decide(%q) = %v, want Denied", host, got)
		}
	}
	for host, want := range map[string]Decision{"redis.internal": Allowed, "a.x1": Allowed, "0x7f.internal": Allowed, "redis.1a": NeedsLookup, "0.0.0.1": Allowed} {
		if got := wide.Decide(host, 6379); got != want {
			t.Errorf("wide.Decide(%q) = %v, want %v", host, got, want)
		}
	}

	var empty *List
	if empty.Decide("127.0.0.1", 6379) != Denied || !empty.Empty() {
		t.Error("a nil list must admit nothing")
	}
}

func TestMatchLabel(t *testing.T) {
	for _, tc := range []struct {
		pattern, label string
		want           bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"*a*b*", "xaxbx", true},
		{"*a*b*", "xbxax", false},
		{"redis-*-primary", "redis-1-primary", true},
		{"redis-*-primary", "redis-1-replica", false},
		{"abc", "abd", false},
		{strings.Repeat("*a", 31), strings.Repeat("a", 62) + "b", false}, // no blow-up
	} {
		if got := matchLabel(tc.pattern, tc.label); got != tc.want {
			t.Errorf("matchLabel(%q, %q) = %v, want %v", tc.pattern, tc.label, got, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	l, err := Parse([]string{"10.0.0.0/8:6379", "redis.prod.internal:6379"})
	if err != nil {
		t.Fatal(err)
	}
	r := &redistest.Resolver{Answers: map[string][]netip.Addr{
		"mixed.example":   {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("::ffff:10.0.0.6")},
		"outside.example": {netip.MustParseAddr("127.0.0.1")},
	}}
	ctx := context.Background()
	got, err := l.Resolve(ctx, r, "mixed.example", 6379)
	if err != nil || !slices.Equal(got, []string{"10.0.0.5:6379", "10.0.0.6:6379"}) {
		t.Errorf("mixed: got %v, %v; want only the admitted addresses", got, err)
	}
	if _, err := l.Resolve(ctx, r, "outside.example", 6379); !errors.Is(err, ErrDenied) {
		t.Errorf("outside: err %v, want ErrDenied", err)
	}
	if _, err := l.Resolve(ctx, r, "missing.example", 6379); err == nil || errors.Is(err, ErrDenied) {
		t.Errorf("missing: err %v, want a lookup error", err)
	}
	before := r.Lookups()
	if got, err := l.Resolve(ctx, r, "redis.prod.internal", 6379); err != nil || !slices.Equal(got, []string{"redis.prod.internal:6379"}) {
		t.Errorf("host pattern: got %v, %v", got, err)
	}
	if _, err := l.Resolve(ctx, r, "mixed.example", 6380); !errors.Is(err, ErrDenied) {
		t.Errorf("port outside every rule: err %v, want ErrDenied", err)
	}
	if r.Lookups() != before {
		t.Error("a decision the patterns settle must not look anything up")
	}
}

// TestDialerNeverConnectsOutside listens on loopback and dials it through
// lists that do not admit it: the listener must see no connection.
func TestDialerNeverConnectsOutside(t *testing.T) {
	port, accepted := redistest.CountingListener(t)
	r := &redistest.Resolver{Answers: map[string][]netip.Addr{
		"sneaky.example": {netip.MustParseAddr("127.0.0.1")},
		"localhost":      {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"zero.example":   {netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::")},
	}}
	for _, patterns := range [][]string{
		{"127.0.0.1:1"},
		{"10.0.0.0/8"},
		{"localhost:1"},
		// 0.0.0.0 is inside, 127.0.0.1 is not: a connection to 0.0.0.0
		// would reach the loopback listener all the same.
		{"0.0.0.0/8", "::/128", "*.example:1"},
	} {
		l, err := Parse(patterns)
		if err != nil {
			t.Fatal(err)
		}
		d := &Dialer{List: l, Resolver: r}
		for _, addr := range []string{net.JoinHostPort("127.0.0.1", itoa(port)), net.JoinHostPort("sneaky.example", itoa(port)), net.JoinHostPort("localhost", itoa(port)),
			net.JoinHostPort("0.0.0.0", itoa(port)), net.JoinHostPort("::", itoa(port)), net.JoinHostPort("zero.example", itoa(port)),
			net.JoinHostPort("2130706433", itoa(port)), net.JoinHostPort("127.1", itoa(port))} {
			if c, err := d.DialContext(context.Background(), "tcp", addr); !errors.Is(err, ErrDenied) {
				if c != nil {
					c.Close()
				}
				t.Errorf("patterns %v, dial %s: err %v, want ErrDenied", patterns, addr, err)
			}
		}
		if _, err := d.DialContext(context.Background(), "unix", "/tmp/redis.sock"); !errors.Is(err, ErrDenied) {
			t.Errorf("unix dial: err %v, want ErrDenied", err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the listener outside the allowlist accepted %d connections", n)
	}

	// And the admitted case does connect, through the resolved address.
	l, _ := Parse([]string{"127.0.0.1/32:" + itoa(port)})
	d := &Dialer{List: l, Resolver: r}
	c, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort("sneaky.example", itoa(port)))
	if err != nil {
		t.Fatalf("admitted dial: %v", err)
	}
	c.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzParseDecide(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "redis-*.prod.internal:6379", "[fd00::/8]:7000-7005", "*.a:*", "**:1"} {
		f.Add(s, "10.1.2.3", 6379)
	}
	f.Fuzz(func(t *testing.T, pattern, host string, port int) {
		l, err := Parse([]string{pattern})
		if err != nil {
			return
		}
		d := l.Decide(host, port)
		if d == Allowed {
			if port < 1 || port > 65535 {
				t.Fatalf("pattern %q admitted port %d", pattern, port)
			}
			if strings.ContainsAny(host, "/@:?#") && !strings.Contains(host, ":") {
				t.Fatalf("pattern %q admitted host %q", pattern, host)
			}
		}
	})
}
