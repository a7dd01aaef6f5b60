package aclrule_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

const samplesDir = "../../testdata/samples"

var sampleVersions = []string{"redis-6.2", "redis-7.0", "redis-7.2", "redis-7.4", "valkey-8.0", "redis-8.0", "valkey-8.1", "valkey-9.1"}

// The SHA-256 hashes of the sample scenario's passwords: "password" (alice),
// "carolpw" (carol) and "s3cret-default" (default and ops).
const (
	hashAlice   = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
	hashCarol   = "d06dc93720809b81d6e0019579108a5745306ad6d37d976ddd6e66a1b2364758"
	hashDefault = "73e58d17dbe40b999c87d0b7c0859deebc40e19b8d5c23f6c512083edb23e424"
)

// sampleLines returns the ACL LIST lines recorded from version.
func sampleLines(tb testing.TB, version string) []string {
	tb.Helper()
	res, err := redistest.ReadSample(samplesDir, version, "acl_list")
	if err != nil {
		tb.Fatalf("%s: %v", version, err)
	}
	arr, ok := res.Value.([]any)
	if !ok {
		tb.Fatalf("%s: ACL LIST sample is %T", version, res.Value)
	}
	lines := make([]string, len(arr))
	for i, v := range arr {
		if lines[i], ok = v.(string); !ok {
			tb.Fatalf("%s: element %d is %T", version, i, v)
		}
	}
	return lines
}

// sampleUsers is the scenario of every sample server. 6.2 grants every
// channel by default (acl-pubsub-default allchannels, "&*"); 7.0+ prints
// resetchannels for the users that were not given channels.
func sampleUsers(channelsByDefault bool) []aclrule.User {
	var alice, bob, carol aclrule.Permissions
	alice = aclrule.Permissions{CommandRules: []string{"-@all", "+get", "+set"}, KeyPatterns: []string{"~app:*"}}
	bob = aclrule.Permissions{CommandRules: []string{"+@all", "-@dangerous"}, KeyPatterns: []string{"~*"}, AllKeys: true}
	carol = aclrule.Permissions{AllCommands: true, CommandRules: []string{"+@all"}, KeyPatterns: []string{"~*"}, AllKeys: true}
	if channelsByDefault {
		for _, p := range []*aclrule.Permissions{&alice, &bob, &carol} {
			p.AllChannels, p.ChannelPatterns = true, []string{"&*"}
		}
	}
	all := aclrule.Permissions{AllCommands: true, AllKeys: true, AllChannels: true,
		CommandRules: []string{"+@all"}, KeyPatterns: []string{"~*"}, ChannelPatterns: []string{"&*"}}
	return []aclrule.User{
		{Name: "alice", Enabled: true, PasswordHashes: []string{hashAlice}, Root: alice},
		{Name: "bob", Enabled: true, NoPass: true, Root: bob},
		{Name: "carol", Enabled: false, PasswordHashes: []string{hashCarol}, Root: carol},
		{Name: "default", Enabled: true, PasswordHashes: []string{hashDefault}, Root: all},
		{Name: "ops", Enabled: true, PasswordHashes: []string{hashDefault}, Root: all},
	}
}

func TestParseSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			want := sampleUsers(v == "redis-6.2")
			lines := sampleLines(t, v)
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d", len(lines), len(want))
			}
			for i, line := range lines {
				got, err := aclrule.Parse(line)
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("line %d:\n got %+v\nwant %+v", i, got, want[i])
				}
			}
		})
	}
}

func TestParseSynthetic(t *testing.T) {
	const h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name, line string
		want       aclrule.User
	}{
		{
			// The example of redis-facts.md: read/write key permissions and
			// a selector that grants HGET on other keys.
			name: "selector and %R~/%W~",
			line: "user bob on #" + h + " %R~ro:* %W~wo:* resetchannels +@all -@dangerous (~sel:* resetchannels -@all +hget)",
			want: aclrule.User{Name: "bob", Enabled: true, PasswordHashes: []string{h},
				Root: aclrule.Permissions{CommandRules: []string{"+@all", "-@dangerous"}, KeyPatterns: []string{"%R~ro:*", "%W~wo:*"}},
				Selectors: []aclrule.Permissions{
					{CommandRules: []string{"-@all", "+hget"}, KeyPatterns: []string{"~sel:*"}},
				}},
		},
		{
			name: "two selectors",
			line: "user s4 on resetchannels -@all (~a resetchannels -@all +get) (resetchannels &c -@all +set)",
			want: aclrule.User{Name: "s4", Enabled: true,
				Root: aclrule.Permissions{CommandRules: []string{"-@all"}},
				Selectors: []aclrule.Permissions{
					{CommandRules: []string{"-@all", "+get"}, KeyPatterns: []string{"~a"}},
					{CommandRules: []string{"-@all", "+set"}, ChannelPatterns: []string{"&c"}},
				}},
		},
		{
			name: "empty selector",
			line: "user s3 on resetchannels -@all (resetchannels -@all)",
			want: aclrule.User{Name: "s3", Enabled: true,
				Root:      aclrule.Permissions{CommandRules: []string{"-@all"}},
				Selectors: []aclrule.Permissions{{CommandRules: []string{"-@all"}}}},
		},
		{
			name: "flags allkeys allchannels allcommands",
			line: "user u on nopass allkeys allchannels allcommands",
			want: aclrule.User{Name: "u", Enabled: true, NoPass: true,
				Root: aclrule.Permissions{AllCommands: true, AllKeys: true, AllChannels: true,
					CommandRules: []string{"allcommands"}, KeyPatterns: []string{"~*"}, ChannelPatterns: []string{"&*"}}},
		},
		{
			// %RW~* is read and write on every key: the same as ~*.
			name: "%RW~*",
			line: "user u on %RW~* resetchannels -@all",
			want: aclrule.User{Name: "u", Enabled: true,
				Root: aclrule.Permissions{AllKeys: true, CommandRules: []string{"-@all"}, KeyPatterns: []string{"%RW~*"}}},
		},
		{
			name: "resetkeys and resetchannels undo",
			line: "user u off ~* &* resetkeys resetchannels ~k",
			want: aclrule.User{Name: "u",
				Root: aclrule.Permissions{KeyPatterns: []string{"~k"}}},
		},
		{
			// Tokens this version does not know (Valkey's db=, 7.x's
			// sanitize-payload) are ignored, not fatal: the user must still
			// be reported.
			name: "unknown tokens",
			line: "user v on nopass sanitize-payload db=0 skip-sanitize-payload ~* &* +@all",
			want: aclrule.User{Name: "v", Enabled: true, NoPass: true,
				Root: aclrule.Permissions{AllCommands: true, AllKeys: true, AllChannels: true,
					CommandRules: []string{"+@all"}, KeyPatterns: []string{"~*"}, ChannelPatterns: []string{"&*"}}},
		},
		{
			name: "several passwords, upper-case hash normalised",
			line: "user p on #" + strings.ToUpper(h) + " #" + hashAlice + " resetchannels -@all",
			want: aclrule.User{Name: "p", Enabled: true, PasswordHashes: []string{h, hashAlice},
				Root: aclrule.Permissions{CommandRules: []string{"-@all"}}},
		},
		{
			name: "resetpass clears nopass and hashes",
			line: "user p on nopass #" + h + " resetpass",
			want: aclrule.User{Name: "p", Enabled: true},
		},
		{
			name: "nopass clears hashes",
			line: "user p on #" + h + " nopass",
			want: aclrule.User{Name: "p", Enabled: true, NoPass: true},
		},
		{
			name: "last of on/off wins",
			line: "user p on off",
			want: aclrule.User{Name: "p"},
		},
		{
			name: "extra spaces",
			line: "user  p   on  ",
			want: aclrule.User{Name: "p", Enabled: true},
		},
		// Parentheses are legal in user names and key/channel patterns.
		// Each line below was printed by ACL LIST of redis-server 7.0.15:
		// the parser must not drop these users (a nopass +@all user named
		// "(weird" must be reported like any other).
		{
			name: "key pattern with ')'",
			line: "user bd on nopass ~) resetchannels +@all",
			want: aclrule.User{Name: "bd", Enabled: true, NoPass: true,
				Root: aclrule.Permissions{AllCommands: true, CommandRules: []string{"+@all"}, KeyPatterns: []string{"~)"}}},
		},
		{
			name: "patterns with parentheses, in a selector too",
			line: "user bd2 on nopass ~a( resetchannels &x) +@all (~b) resetchannels -@all +get)",
			want: aclrule.User{Name: "bd2", Enabled: true, NoPass: true,
				Root: aclrule.Permissions{AllCommands: true, CommandRules: []string{"+@all"},
					KeyPatterns: []string{"~a("}, ChannelPatterns: []string{"&x)"}},
				Selectors: []aclrule.Permissions{{CommandRules: []string{"-@all", "+get"}, KeyPatterns: []string{"~b)"}}}},
		},
		{
			// "(%R~b)" is not a whole selector: its first token is the
			// pattern "%R~b)". Selectors end with their command rules.
			name: "selector whose patterns end with ')'",
			line: "user s5 on resetchannels -@all (%R~b) resetchannels &c) -@all +get)",
			want: aclrule.User{Name: "s5", Enabled: true,
				Root: aclrule.Permissions{CommandRules: []string{"-@all"}},
				Selectors: []aclrule.Permissions{{CommandRules: []string{"-@all", "+get"},
					KeyPatterns: []string{"%R~b)"}, ChannelPatterns: []string{"&c)"}}}},
		},
		{
			name: "selector with '(' in a pattern",
			line: "user sel on resetchannels -@all (~x( resetchannels -@all +get)",
			want: aclrule.User{Name: "sel", Enabled: true,
				Root:      aclrule.Permissions{CommandRules: []string{"-@all"}},
				Selectors: []aclrule.Permissions{{CommandRules: []string{"-@all", "+get"}, KeyPatterns: []string{"~x("}}}},
		},
		{
			name: "user name starting with '('",
			line: "user (weird on nopass ~* resetchannels +@all",
			want: aclrule.User{Name: "(weird", Enabled: true, NoPass: true,
				Root: aclrule.Permissions{AllCommands: true, AllKeys: true, CommandRules: []string{"+@all"}, KeyPatterns: []string{"~*"}}},
		},
		{
			name: "user name with ')'",
			line: "user x) on resetchannels -@all",
			want: aclrule.User{Name: "x)", Enabled: true,
				Root: aclrule.Permissions{CommandRules: []string{"-@all"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := aclrule.Parse(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestUnrestricted(t *testing.T) {
	type scopes struct{ commands, keys, channels bool }
	for _, tc := range []struct {
		rules string
		want  scopes
	}{
		{"~* &* +@all", scopes{true, true, true}},
		{"allkeys allchannels allcommands", scopes{true, true, true}},
		// Removing anything after +@all leaves the user restricted...
		{"~* +@all -@dangerous", scopes{false, true, false}},
		{"+@all -debug", scopes{false, false, false}},
		{"+@all -config|get", scopes{false, false, false}},
		{"+@all nocommands", scopes{false, false, false}},
		{"allcommands -@all", scopes{false, false, false}},
		// ...adding does not, and a later +@all grants everything again.
		{"+@all +get", scopes{true, false, false}},
		{"-@dangerous +@all", scopes{true, false, false}},
		{"nocommands allcommands", scopes{true, false, false}},
		{"-@all +@admin +@dangerous", scopes{false, false, false}},
		// Key patterns: only a read-write * is every key.
		{"~app:*", scopes{false, false, false}},
		{"%RW~*", scopes{false, true, false}},
		{"%rw~*", scopes{false, true, false}}, // Redis reads the flags case-insensitively
		{"%WR~*", scopes{false, true, false}},
		{"%R~*", scopes{false, false, false}},
		{"%W~*", scopes{false, false, false}},
		{"~* resetkeys", scopes{false, false, false}},
		{"allkeys resetkeys ~k", scopes{false, false, false}},
		{"&chan:*", scopes{false, false, false}},
		{"&* resetchannels", scopes{false, false, false}},
		{"allchannels", scopes{false, false, true}},
		// A selector that grants a scope makes the user unrestricted in it.
		{"resetchannels -@all (~* &* +@all)", scopes{true, true, true}},
		{"resetchannels -@all (~sel:* -@all +hget)", scopes{false, false, false}},
		{"~* -@all (%R~* +@all)", scopes{true, true, false}},
	} {
		u, err := aclrule.Parse("user u on nopass " + tc.rules)
		if err != nil {
			t.Fatalf("%q: %v", tc.rules, err)
		}
		got := scopes{u.Unrestricted(aclrule.ScopeCommands), u.Unrestricted(aclrule.ScopeKeys), u.Unrestricted(aclrule.ScopeChannels)}
		if got != tc.want {
			t.Errorf("%q: unrestricted %+v, want %+v", tc.rules, got, tc.want)
		}
	}
	if u := (aclrule.User{}); u.Unrestricted("other") {
		t.Error("unknown scope reported unrestricted")
	}
}

// hexRun finds anything that looks like a piece of a password hash.
var hexRun = regexp.MustCompile(`[0-9a-fA-F]{8,}`)

func TestParseErrors(t *testing.T) {
	// The lines carry password hashes: an error must say what is wrong
	// without quoting any of the line (it ends up in logs).
	const h = "#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for _, line := range []string{
		"",
		"   ",
		"user",
		"user ",
		"usr zed9 on " + h,
		"zed9 on " + h + " ~* +@all",
		"USER zed9 on " + h, // the keyword is lower case
		// A selector that is never closed.
		"user zed9 on " + h + " (~sel:* resetchannels -@all +hget",
		"user zed9 on " + h + " ~* (",
		"user zed9 on " + h + " (~a (~b +get",
		"user zed9 on " + h + " (~a +get) (&c",
	} {
		u, err := aclrule.Parse(line)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", line, u)
			continue
		}
		msg := err.Error()
		if hexRun.MatchString(msg) {
			t.Errorf("Parse(%q): error %q contains hex that may be a hash", line, msg)
		}
		for _, tok := range strings.Fields(line) {
			if len(tok) >= 3 && tok != "user" && strings.Contains(msg, tok) {
				t.Errorf("Parse(%q): error %q quotes input token %q", line, msg, tok)
			}
		}
	}
}
