package offline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/check"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func TestParseServerVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		flavor  redisinfo.Flavor
		version string
		wantErr string
	}{
		{in: "7.2.4", flavor: "redis", version: "7.2.4"},
		{in: "redis:8.0.2", flavor: "redis", version: "8.0.2"},
		{in: "valkey:8.1.1", flavor: "valkey", version: "8.1.1"},
		{in: "Valkey:9.1", flavor: "valkey", version: "9.1.0"},
		{in: "keydb:6.3.4", wantErr: "flavor must be redis or valkey"},
		{in: "redis:seven", wantErr: "want [redis:|valkey:]MAJOR.MINOR.PATCH"},
		{in: "5.0.14", wantErr: "supported are Redis 6.0+"},
		{in: "valkey:7.0.0", wantErr: "supported are Redis 6.0+ and Valkey 7.2+"},
	} {
		f, v, err := ParseServerVersion(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || f != tc.flavor || v.String() != tc.version {
			t.Errorf("%q = %s %s, %v", tc.in, f, v, err)
		}
	}
}

func TestACLLine(t *testing.T) {
	v7 := redisinfo.Version{Major: 7}
	for _, tc := range []struct {
		rules   string
		want    string
		wantErr string
	}{
		{rules: "on >pw ~* +@all", want: "user u on #" + sha256Hex("pw") + " resetkeys resetchannels -@all ~* +@all"},
		{rules: "on nopass >pw", want: "user u on #" + sha256Hex("pw") + " resetkeys resetchannels -@all"},
		{rules: "on >pw nopass", want: "user u on nopass resetkeys resetchannels -@all"},
		{rules: "on >a >b <a", want: "user u on #" + sha256Hex("b") + " resetkeys resetchannels -@all"},
		{rules: "on >a !" + sha256Hex("a"), want: "user u on resetkeys resetchannels -@all"},
		{rules: "on >a reset", want: "user u off resetkeys resetchannels -@all resetkeys resetchannels -@all"},
		{rules: "on +get (~a +set) clearselectors", want: "user u on resetkeys resetchannels -@all +get"},
		{rules: "on #abc", wantErr: "not a SHA-256"},
		{rules: "on (+get ~a", wantErr: "selector is not closed"},
	} {
		got, err := aclLine("u", strings.Fields(tc.rules), v7)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.rules, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q:\n got %q, %v\nwant %q", tc.rules, got, err, tc.want)
		}
	}
	// 6.x gives new users every channel.
	got, _ := aclLine("u", []string{"on"}, redisinfo.Version{Major: 6, Minor: 2})
	if !strings.HasSuffix(got, " &*") {
		t.Errorf("6.2 user %q does not end with &*", got)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(content, "DIR", dir)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func audit(t *testing.T, conf, version, aclFile string) check.TargetReport {
	t.Helper()
	return Audit(Options{ConfigFile: conf, ServerVersion: version, ACLFile: aclFile, Collector: options(t), Now: time.Now()})
}

// TestAuditInputs: the ways a configuration can be unusable or incomplete
// are reported, naming file and line and never a secret.
func TestAuditInputs(t *testing.T) {
	const secret = "S3cret-Value-Never-Printed"
	dir := writeFiles(t, map[string]string{
		"conflict.conf":  "aclfile /etc/redis/users.acl\nuser app on >" + secret + " ~* +@all\n",
		"dup.conf":       "user app on >" + secret + "\nuser app on >other\n",
		"quote.conf":     "port 6379\nrequirepass \"" + secret + "\n",
		"noacl.conf":     "aclfile /nonexistent/users.acl\nbind 127.0.0.1\ndir /var/lib/redis\n",
		"badacl.conf":    "aclfile DIR/bad.acl\n",
		"bad.acl":        "# comments are not allowed in ACL files\nuser a on nopass\n",
		"toonew.conf":    "enable-debug-command yes\n",
		"coblimit.conf":  "client-output-buffer-limit normal 0 0\n",
		"renamebad.conf": "rename-command FLUSHALL\n",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, tc := range []struct {
		conf, version, aclFile string
		wantErr                string
		wantWarning            string
		wantNotEvaluated       map[string]string
	}{
		{conf: p("conflict.conf"), wantErr: "conflict.conf:1: aclfile and user directives"},
		{conf: p("dup.conf"), wantErr: `dup.conf:2: user "app" is defined twice`},
		{conf: p("quote.conf"), wantErr: "quote.conf:2: unbalanced double quotes"},
		{conf: p("badacl.conf"), wantErr: "bad.acl:1: should start with the user keyword"},
		{conf: p("coblimit.conf"), wantErr: "coblimit.conf:1: client-output-buffer-limit takes groups"},
		{conf: p("renamebad.conf"), wantErr: "renamebad.conf:1: rename-command takes"},
		{conf: p("nothere.conf"), wantErr: "nothere.conf"},
		{conf: p("noacl.conf"), version: "7.2.4", wantWarning: "aclfile /nonexistent/users.acl (" + p("noacl.conf") + ":1) is not readable here: pass --acl-file",
			wantNotEvaluated: map[string]string{"user_nopass": ReasonNotInFiles, "default_user_nopass": ReasonNotInFiles, "lua_sandbox_escape": "needs a running server"}},
		{conf: p("noacl.conf"), aclFile: p("bad.acl"), wantErr: "bad.acl:1"},
		{conf: p("toonew.conf"), version: "6.2.14", wantWarning: "toonew.conf:1: enable-debug-command does not exist on redis 6.2.14"},
		{conf: p("toonew.conf"), wantNotEvaluated: map[string]string{"known_vulnerabilities": ReasonNeedsVersion, "version_end_of_life": ReasonNeedsVersion, "persistence_path_suspicious": ReasonNotInFiles}},
	} {
		r := audit(t, tc.conf, tc.version, tc.aclFile)
		var out bytes.Buffer
		if err := check.WriteJSON(&out, check.Report{Targets: []check.TargetReport{r}}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), secret) {
			t.Errorf("%s: the report holds the secret:\n%s", tc.conf, out.String())
		}
		if tc.wantErr != "" {
			if r.Up || !strings.Contains(r.Error, tc.wantErr) {
				t.Errorf("%s: up=%v error %q, want %q", filepath.Base(tc.conf), r.Up, r.Error, tc.wantErr)
			}
			continue
		}
		if !r.Up {
			t.Errorf("%s: not up: %s", filepath.Base(tc.conf), r.Error)
			continue
		}
		if tc.wantWarning != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tc.wantWarning) {
			t.Errorf("%s: warnings %q, want %q", filepath.Base(tc.conf), r.Warnings, tc.wantWarning)
		}
		reasons := map[string]string{}
		for _, n := range r.NotEvaluated {
			reasons[n.Check] = n.Reason
		}
		for id, want := range tc.wantNotEvaluated {
			if reasons[id] != want {
				t.Errorf("%s: %s not evaluated because %q, want %q", filepath.Base(tc.conf), id, reasons[id], want)
			}
		}
	}
}

// TestAuditRedis6: a 6.x server gets one CONFIG GET per parameter, no bind
// default (every interface), no enable-* gates (open) and no ACL DRYRUN: the
// plan the collectors make for it is answered too.
func TestAuditRedis6(t *testing.T) {
	dir := writeFiles(t, map[string]string{"r6.conf": "protected-mode yes\nuser default on >Uniq-Default-Pw-123 ~* +@all -@dangerous\nuser app on nopass ~* +@all\n"})
	r := audit(t, filepath.Join(dir, "r6.conf"), "redis:6.2.14", "")
	if !r.Up {
		t.Fatal(r.Error)
	}
	got := byCheck(r)
	for id, want := range map[string]bool{
		"bind_all_interfaces":            true, // no bind on 6.x: every interface
		"debug_command_enabled":          true, // 6.x has no gate
		"exposed_without_auth":           false,
		"user_nopass":                    true,
		"user_unrestricted":              true,
		"dangerous_command_default_user": true, // EVAL, SCRIPT ... are not @dangerous
	} {
		f, ok := got[id]
		if !ok || f.Failed != want {
			t.Errorf("%s: evaluated=%v failed=%v, want failed=%v", id, ok, f.Failed, want)
		}
	}
	var allowed []string
	for _, o := range got["dangerous_command_default_user"].Objects {
		allowed = append(allowed, o.Name)
	}
	if s := strings.Join(allowed, ","); !strings.Contains(s, "EVAL") || strings.Contains(s, "FLUSHALL") || strings.Contains(s, "CONFIG") {
		t.Errorf("default user may run %s; want EVAL (@scripting) but not FLUSHALL or CONFIG (@dangerous)", s)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %q", r.Warnings)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "taken from the table of redis-7.0") {
		t.Errorf("notes %q do not say which command table was used", r.Notes)
	}
}

// TestAuditLocations: a failing finding points at the directive that
// decides it, in the file it is in; a default in effect points at the main
// file as a whole.
func TestAuditLocations(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.conf": "# weak\nbind 0.0.0.0\ninclude DIR/acl.conf\ntimeout 0\n",
		"acl.conf":  "user default on nopass ~* +@all\nuser app on >foobared ~app:* +get\n",
	})
	main := filepath.Join(dir, "main.conf")
	r := audit(t, main, "7.2.4", "")
	want := map[string]check.Location{
		"bind_all_interfaces": {File: main, Line: 2},
		"no_idle_timeout":     {File: main, Line: 4},
		"default_user_nopass": {File: filepath.Join(dir, "acl.conf"), Line: 1},
		"user_weak_password":  {File: filepath.Join(dir, "acl.conf"), Line: 2},
		"maxmemory_unlimited": {File: main},
	}
	got := byCheck(r)
	for id, loc := range want {
		f := got[id]
		if !f.Failed || f.Location == nil || *f.Location != loc {
			t.Errorf("%s: failed=%v location %+v, want %+v", id, f.Failed, f.Location, loc)
		}
	}
	if len(r.Files) != 2 {
		t.Errorf("files %v, want main.conf and acl.conf", r.Files)
	}
}

// TestAuditCommandLog: on Valkey 8.1+ COMMANDLOG's settings are audited,
// SLOWLOG's old names included (aliases there); on Redis the check is not
// evaluated and the new names are refused, as the server would.
func TestAuditCommandLog(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"defaults.conf": "bind 127.0.0.1\n",
		"off.conf":      "bind 127.0.0.1\ncommandlog-reply-larger-than -1\nslowlog-max-len 0\n",
		"redis.conf":    "bind 127.0.0.1\ncommandlog-reply-larger-than -1\n",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	if f, ok := byCheck(audit(t, p("defaults.conf"), "valkey:8.1.1", ""))["commandlog_disabled"]; !ok || f.Failed {
		t.Errorf("defaults on Valkey 8.1: evaluated=%v failed=%v, want a pass", ok, f.Failed)
	}
	r := audit(t, p("off.conf"), "valkey:9.1.2", "")
	f, ok := byCheck(r)["commandlog_disabled"]
	var objects []string
	for _, o := range f.Objects {
		objects = append(objects, o.Name)
	}
	if !ok || !f.Failed || strings.Join(objects, "|") != "commandlog-reply-larger-than < 0|commandlog-slow-execution-max-len 0" {
		t.Errorf("off.conf on Valkey 9.1: evaluated=%v failed=%v objects %q", ok, f.Failed, objects)
	}
	if f.Location == nil || f.Location.Line != 3 {
		t.Errorf("located at %+v, want off.conf:3 (the last deciding directive)", f.Location)
	}
	if len(r.Warnings) > 0 {
		t.Errorf("warnings: %q", r.Warnings)
	}
	r = audit(t, p("redis.conf"), "redis:8.0.6", "")
	if _, ok := byCheck(r)["commandlog_disabled"]; ok {
		t.Error("commandlog_disabled evaluated for Redis")
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "commandlog-reply-larger-than does not exist on redis 8.0.6") {
		t.Errorf("warnings %q, want one for commandlog-reply-larger-than", r.Warnings)
	}
	if _, ok := byCheck(audit(t, p("defaults.conf"), "valkey:8.0.1", ""))["commandlog_disabled"]; ok {
		t.Error("commandlog_disabled evaluated for Valkey 8.0")
	}
}
