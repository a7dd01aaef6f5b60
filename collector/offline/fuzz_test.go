package offline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
)

// FuzzAudit: any configuration file is audited or refused with an error,
// never a panic, and the report never holds a password of the file.
func FuzzAudit(f *testing.F) {
	for _, s := range []string{
		"bind 0.0.0.0\nprotected-mode no\nuser default on nopass ~* +@all\n",
		"requirepass hunter2\nuser app on >hunter2 ~* (+get ~a) +@all\nrename-command CONFIG \"\"\n",
		"client-output-buffer-limit normal 1mb 1mb 60 replica 0 0 0\nmaxmemory 1gb\nmaxmemory-clients 5%\n",
		"unixsocket /tmp/s\nunixsocketperm 777\nreplicaof 10.0.0.1 6379\nslave-read-only no\n",
		"tls-port 6380\ntls-protocols \"TLSv1 TLSv1.2\"\ntls-auth-clients optional\n",
	} {
		f.Add(s)
	}
	opts := collector.DefaultOptions()
	f.Fuzz(func(t *testing.T, conf string) {
		if strings.Contains(conf, "include") || strings.Contains(conf, "aclfile") {
			return // no reading of arbitrary paths
		}
		path := filepath.Join(t.TempDir(), "fuzz.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		r := Audit(Options{ConfigFile: path, ServerVersion: "7.2.4", Collector: opts, Now: time.Unix(0, 0)})
		if !r.Up && r.Error == "" {
			t.Fatal("not up without an error")
		}
		for _, f := range r.Findings {
			for _, o := range f.Objects {
				if o.Kind == "user" && strings.Contains(o.Name, ">") {
					t.Fatalf("a user object holds a password rule: %q", o.Name)
				}
			}
		}
	})
}
