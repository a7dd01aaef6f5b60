package clientlist_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/clientlist"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

const samplesDir = "../../testdata/samples"

var sampleVersions = []string{"redis-6.2", "redis-7.0", "redis-7.2", "redis-7.4", "valkey-8.0", "redis-8.0", "valkey-8.1", "valkey-9.1"}

// TestParseSamples: every recorded CLIENT LIST TYPE normal reply parses into
// the two clients of the recording (the recorder, as default, and alice).
func TestParseSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			res, err := redistest.ReadSample(samplesDir, v, "client_list")
			if err != nil {
				t.Fatal(err)
			}
			clients, err := clientlist.Parse(res.Value)
			if err != nil {
				t.Fatal(err)
			}
			if len(clients) != 2 {
				t.Fatalf("%d clients, want 2: %+v", len(clients), clients)
			}
			// The recording connection, then alice's (ids depend on how
			// many connections the recording made before).
			if clients[0].ID <= 0 || clients[1].ID <= clients[0].ID {
				t.Errorf("client ids %d, %d: want positive and ascending", clients[0].ID, clients[1].ID)
			}
			for i, user := range []string{"default", "alice"} {
				c := clients[i]
				if c.User != user || !c.HasUser {
					t.Errorf("client %d = %+v, want user %s", i, c, user)
				}
				if !c.HasLAddr || !strings.HasPrefix(c.LAddr, "127.0.0.1:") {
					t.Errorf("client %d: laddr %q", i, c.LAddr)
				}
				if c.Flags != "N" || c.Unix() {
					t.Errorf("client %d: flags %q", i, c.Flags)
				}
				if got := c.Network(); got != "loopback" {
					t.Errorf("client %d: network %s", i, got)
				}
				if got := c.Transport(0); got != "tcp" {
					t.Errorf("client %d: transport %s without a TLS port", i, got)
				}
				_, port, _ := strings.Cut(c.LAddr, ":")
				if got := c.Transport(atoi(t, port)); got != "tls" {
					t.Errorf("client %d: transport %s when laddr's port is the TLS port", i, got)
				}
				if got := c.Transport(atoi(t, port) + 1); got != "tcp" {
					t.Errorf("client %d: transport %s when laddr's port is not the TLS port", i, got)
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("not a port: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func TestClassification(t *testing.T) {
	tests := []struct {
		line      string
		tlsPort   int
		transport string
		network   string
	}{
		{"id=1 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= flags=N user=default", 6380, "tcp", "loopback"},
		{"id=1 addr=127.0.0.2:5000 laddr=127.0.0.1:6380 fd=8 name= flags=N user=default", 6380, "tls", "loopback"},
		{"id=1 addr=/tmp/redis.sock:0 laddr=/tmp/redis.sock fd=8 name= flags=U user=app", 6380, "unix", "loopback"},
		{"id=1 addr=10.1.2.3:5000 laddr=10.0.0.1:6379 fd=8 name= flags=N user=default", 0, "tcp", "private"},
		{"id=1 addr=192.168.1.1:5000 laddr=10.0.0.1:6379 flags=N", 0, "tcp", "private"},
		{"id=1 addr=172.16.0.9:5000 laddr=10.0.0.1:6379 flags=N", 0, "tcp", "private"},
		{"id=1 addr=8.8.8.8:5000 laddr=10.0.0.1:6380 flags=N", 6380, "tls", "public"},
		{"id=1 addr=[::1]:5000 laddr=[::1]:6379 flags=N", 6380, "tcp", "loopback"},
		{"id=1 addr=::1:5000 laddr=::1:6380 flags=N", 6380, "tls", "loopback"},
		{"id=1 addr=[fd00::5]:5000 laddr=[fd00::1]:6379 flags=N", 0, "tcp", "private"},
		{"id=1 addr=[fe80::1%eth0]:5000 laddr=[fe80::2%eth0]:6379 flags=N", 0, "tcp", "private"},
		{"id=1 addr=[2001:db8::1]:5000 laddr=[2001:db8::2]:6379 flags=N", 0, "tcp", "public"},
		{"id=1 addr=[::ffff:127.0.0.1]:5000 laddr=[::ffff:127.0.0.1]:6379 flags=N", 0, "tcp", "loopback"},
		{"id=1 addr=[::ffff:8.8.4.4]:5000 laddr=[::ffff:10.0.0.1]:6379 flags=N", 0, "tcp", "public"},
		// 6.0: no laddr, so TLS and TCP clients look alike once there is a TLS port.
		{"id=1 addr=8.8.8.8:5000 fd=8 name= flags=N user=default", 6380, "unknown", "public"},
		{"id=1 addr=8.8.8.8:5000 fd=8 name= flags=N user=default", 0, "tcp", "public"},
		{"id=1 addr=garbage laddr=alsogarbage flags=N", 6380, "unknown", "unknown"},
		{"id=1 addr=host:99999 laddr=x:6380 flags=N", 6380, "tls", "unknown"},
	}
	for _, tc := range tests {
		cs, err := clientlist.Parse(tc.line + "\n")
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if len(cs) != 1 {
			t.Fatalf("%s: %d clients", tc.line, len(cs))
		}
		if got := cs[0].Transport(tc.tlsPort); got != tc.transport {
			t.Errorf("%s (tls-port %d): transport %s, want %s", tc.line, tc.tlsPort, got, tc.transport)
		}
		if got := cs[0].Network(); got != tc.network {
			t.Errorf("%s: network %s, want %s", tc.line, got, tc.network)
		}
	}
}

func TestParseFields(t *testing.T) {
	// A client name cannot hold a space, and the first occurrence of a
	// field is the server's: later ones are ignored.
	cs, err := clientlist.Parse("id=7 addr=1.2.3.4:5 laddr=1.2.3.4:6379 fd=1 name=x=y  flags=N cmd=get user=bob lib-name=user=admin\r\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != 7 || cs[0].User != "bob" || cs[0].Flags != "N" {
		t.Errorf("got %+v", cs)
	}
	// Before 6.0 there is no user field.
	cs, err = clientlist.Parse("id=1 addr=1.2.3.4:5 fd=1 flags=N")
	if err != nil || cs[0].HasUser || cs[0].HasLAddr {
		t.Errorf("got %+v, %v", cs, err)
	}
	if cs, err := clientlist.Parse(""); err != nil || len(cs) != 0 {
		t.Errorf("empty reply: %+v, %v", cs, err)
	}
	for _, bad := range []any{
		"addr=1.2.3.4:5 flags=N\n", // no id
		"id=x addr=1.2.3.4:5\n",    // id not a number
		"id=1 flags=N\n",           // no addr
		int64(3),
		nil,
		[]any{"id=1 addr=1.2.3.4:5"},
	} {
		if _, err := clientlist.Parse(bad); err == nil {
			t.Errorf("Parse(%#v) accepted", bad)
		}
	}
}

// FuzzParse: any reply parses or fails cleanly, and classification never
// panics and stays within the documented label values.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(samplesDir, "*", "client_list.resp"))
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		res, err := redistest.ParseRESP2(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(res.Value.(string), 6380)
	}
	f.Add("id=1 addr=[fe80::1%eth0]:5000 laddr=[::1]:6380 flags=U user=\xff\n", 6380)
	f.Add("id=1 addr=:: laddr=: flags= user=\n", 0)
	f.Fuzz(func(t *testing.T, reply string, tlsPort int) {
		cs, err := clientlist.Parse(reply)
		if err != nil {
			return
		}
		for _, c := range cs {
			switch c.Transport(tlsPort) {
			case "tcp", "tls", "unix", "unknown":
			default:
				t.Fatalf("transport %q", c.Transport(tlsPort))
			}
			switch c.Network() {
			case "loopback", "private", "public", "unknown":
			default:
				t.Fatalf("network %q", c.Network())
			}
		}
	})
}

// TestParseBlankLines: a reply of blank lines (a hostile server's) is no
// clients, and reserves room only for the lines a reply of that size can
// hold, not a Client per newline.
func TestParseBlankLines(t *testing.T) {
	s := strings.Repeat("\n", 1<<20)
	got, err := clientlist.Parse(s)
	if err != nil || len(got) != 0 {
		t.Fatalf("Parse: %d clients, %v", len(got), err)
	}
	if max := len(s)/24 + 1; cap(got) > max {
		t.Errorf("room for %d clients in a reply that can hold %d", cap(got), max)
	}
}
