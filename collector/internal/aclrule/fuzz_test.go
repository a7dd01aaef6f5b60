package aclrule_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
)

// hashToken is a password hash as ACL LIST prints it (or a piece long enough
// to help guess one).
var hashToken = regexp.MustCompile(`#[0-9a-fA-F]{8,}`)

// FuzzParse checks that Parse never panics and that its errors never leak a
// password hash of the line they are about.
func FuzzParse(f *testing.F) {
	for _, v := range sampleVersions {
		for _, line := range sampleLines(f, v) {
			f.Add(line)
		}
	}
	for _, line := range []string{
		"user bob on #0123456789abcdef %R~ro:* %W~wo:* resetchannels +@all -@dangerous (~sel:* resetchannels -@all +hget)",
		"user bd2 on nopass ~a( resetchannels &x) +@all (~b) resetchannels -@all +get)",
		"user (weird on nopass ~* resetchannels +@all",
		"user x on #0123456789abcdef (~a +get",
		"user v on nopass sanitize-payload db=0 ~* &* +@all",
		"user p on nopass #0123456789abcdef resetpass",
	} {
		f.Add(line)
	}

	f.Fuzz(func(t *testing.T, line string) {
		u, err := aclrule.Parse(line)
		if err != nil {
			msg := err.Error()
			if hexRun.MatchString(msg) {
				t.Fatalf("error %q holds hex that may be a hash", msg)
			}
			if hashToken.MatchString(line) && strings.Contains(msg, line) {
				t.Fatalf("error %q quotes the line", msg)
			}
			return
		}
		// ACL LIST separates rules with single spaces; other white space
		// is part of a token.
		var fields []string
		for _, f := range strings.Split(line, " ") {
			if f != "" {
				fields = append(fields, f)
			}
		}
		if len(fields) < 2 || fields[0] != "user" || u.Name != fields[1] {
			t.Fatalf("Parse accepted %q as user %q", line, u.Name)
		}
		for _, h := range u.PasswordHashes {
			if h != strings.ToLower(h) {
				t.Fatalf("hash %q not normalised to lower case", h)
			}
		}
		// Unrestricted must agree with the permissions it summarises.
		for _, p := range append([]aclrule.Permissions{u.Root}, u.Selectors...) {
			if p.AllCommands && !u.Unrestricted(aclrule.ScopeCommands) ||
				p.AllKeys && !u.Unrestricted(aclrule.ScopeKeys) ||
				p.AllChannels && !u.Unrestricted(aclrule.ScopeChannels) {
				t.Fatalf("Unrestricted disagrees with %+v", p)
			}
		}
	})
}
