package redisconf

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		line    string
		want    []string
		wantErr string
	}{
		{line: "port 6379", want: []string{"port", "6379"}},
		{line: "  bind   127.0.0.1\t-::1  ", want: []string{"bind", "127.0.0.1", "-::1"}},
		{line: `requirepass "a b"`, want: []string{"requirepass", "a b"}},
		{line: `requirepass "a\"b\\c\n\x41\x4a"`, want: []string{"requirepass", "a\"b\\c\nAJ"}},
		{line: `dir '/var/lib/it''s'`, wantErr: "closing single quote"},
		{line: `dir '/var/it\'s'`, want: []string{"dir", "/var/it's"}},
		{line: `dir '\n'`, want: []string{"dir", `\n`}},
		{line: `rename-command FLUSHALL ""`, want: []string{"rename-command", "FLUSHALL", ""}},
		{line: `rename-command CONFIG ''`, want: []string{"rename-command", "CONFIG", ""}},
		{line: `a"b c"d`, wantErr: "closing double quote"},
		{line: `a"b c" d`, want: []string{"ab c", "d"}},
		{line: `user "x`, wantErr: "unbalanced double quotes"},
		{line: `user 'x`, wantErr: "unbalanced single quotes"},
		{line: `x "\xzz"`, want: []string{"x", "xzz"}},
		{line: `x "tail\`, wantErr: "unbalanced"},
	} {
		got, err := SplitArgs(tc.line)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("SplitArgs(%q) error %v, want %q", tc.line, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadIncludesAndOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "conf.d/10-net.conf", "bind 10.0.0.5\nPort 7000\n")
	write(t, dir, "conf.d/20-acl.conf", "user app on >pw ~app:* +get\n")
	write(t, dir, "local.conf", "timeout 30\n")
	main := write(t, dir, "redis.conf", "# comment\n\nport 6379\ninclude conf.d/*.conf\ninclude local.conf\n   # indented comment\nmaxmemory 2gb\n")
	c, err := Load(main)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range c.Directives {
		got = append(got, filepath.Base(d.File)+":"+d.Name+"@"+strconv.Itoa(d.Line))
	}
	want := []string{"redis.conf:port@3", "10-net.conf:bind@1", "10-net.conf:port@2", "20-acl.conf:user@1", "local.conf:timeout@1", "redis.conf:maxmemory@7"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("directives %v, want %v", got, want)
	}
	if d, _ := c.Last("port"); d.Args[0] != "7000" {
		t.Errorf("last port %v, want 7000 (the include comes later)", d.Args)
	}
	if n := len(c.All("user")); n != 1 {
		t.Errorf("%d user directives", n)
	}
	if len(c.Files) != 4 {
		t.Errorf("files %v", c.Files)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	loop := write(t, dir, "loop.conf", "include loop.conf\n")
	secret := write(t, dir, "secret.conf", "port 1\nrequirepass \"hunter2-secret\n")
	missing := write(t, dir, "missing.conf", "include nowhere.conf\n")
	twoArgs := write(t, dir, "two.conf", "include a b\n")
	for _, tc := range []struct {
		path, want string
	}{
		{loop, "includes itself"},
		{secret, "secret.conf:2: unbalanced double quotes"},
		{missing, `missing.conf:1: included file "nowhere.conf" not found`},
		{twoArgs, "two.conf:1: include takes one file"},
		{filepath.Join(dir, "absent.conf"), "absent.conf"},
	} {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) = %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error quotes the secret line: %v", err)
		}
	}
}
