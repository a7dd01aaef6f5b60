package redistest

import "testing"

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
