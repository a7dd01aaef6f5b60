package redistest

import (
	"testing"
	"time"
)

func TestStartAndRestart(t *testing.T) {
	s := Start(t, "")
	if got := s.Do("", "", "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
	before := s.Do("", "", "INFO", "server").(string)
	s = s.Restart()
	after := s.Do("", "", "INFO", "server").(string)
	if before == after {
		t.Fatal("INFO unchanged after restart: run_id should differ")
	}
}

func TestParseRESP2(t *testing.T) {
	res, err := ParseRESP2([]byte("*3\r\n$3\r\nfoo\r\n:5\r\n$-1\r\n"))
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	arr := res.Value.([]any)
	if arr[0] != "foo" || arr[1] != int64(5) || arr[2] != nil {
		t.Fatalf("got %#v", arr)
	}
	res, _ = ParseRESP2([]byte("-NOPERM no\r\n"))
	if res.Err == nil || res.Err.Error() != "NOPERM no" {
		t.Fatalf("error reply: %#v", res)
	}
	if _, err := ParseRESP2([]byte("$5\r\nab\r\n")); err == nil {
		t.Fatal("short bulk accepted")
	}
}

// TestTLSOnlyServer: a server without a plaintext port starts (readiness
// from its log), reports Port 0, and answers over TLS with the client
// certificate.
func TestTLSOnlyServer(t *testing.T) {
	f := GenerateTLS(t, t.TempDir(), time.Hour)
	s := StartWith(t, Options{TLS: &f, NoPlaintext: true, Config: "tls-auth-clients yes"})
	if s.Port != 0 || s.TLSPort == 0 {
		t.Fatalf("Port %d, TLSPort %d", s.Port, s.TLSPort)
	}
	if got := s.Do("", "", "CONFIG", "GET", "port").([]any); got[1] != "0" {
		t.Fatalf("CONFIG GET port = %v", got)
	}
	tlsPort := s.TLSPort
	s = s.Restart()
	if s.TLSPort != tlsPort || s.Port != 0 {
		t.Fatalf("restart moved the ports: %d, %d", s.Port, s.TLSPort)
	}
	if got := s.Do("", "", "PING"); got != "PONG" {
		t.Fatalf("PING = %v", got)
	}
	// A raw config with "port 0" is reported as such.
	s2 := StartWith(t, Options{Config: "port 0\nunixsocket " + t.TempDir() + "/r.sock"})
	if s2.Port != 0 {
		t.Fatalf("Port %d for port 0", s2.Port)
	}
}
