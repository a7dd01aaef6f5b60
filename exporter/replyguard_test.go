package exporter_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// hostileServer answers HELLO as a server without it (Redis 5) and every
// other request with reply. It reads requests as go-redis writes them: one
// array of bulk strings per command.
func hostileServer(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					args, err := readCommand(r)
					if err != nil {
						return
					}
					out := reply
					if strings.EqualFold(args[0], "hello") {
						out = "-ERR unknown command 'HELLO'\r\n"
					}
					if _, err := c.Write([]byte(out)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	var n int
	if _, err := fmt.Sscanf(line, "*%d\r\n", &n); err != nil {
		return nil, err
	}
	args := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		arg, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		args = append(args, strings.TrimSuffix(arg, "\r\n"))
	}
	return args, nil
}

// TestHostileReplies: a server whose replies would make go-redis allocate
// without bound, panic in makeslice (which killed the exporter: the scrape
// runs in a singleflight goroutine that re-panics) or overflow the stack is
// reported down, and the exporter still scrapes a real server afterwards.
func TestHostileReplies(t *testing.T) {
	t.Parallel()
	for name, reply := range map[string]string{
		"makeslice panic": "*4611686018427387904\r\n",
		"2 GB bulk":       "$2000000000\r\n",
		"deep nesting":    strings.Repeat("*1\r\n", 1<<20),
		"nested arrays":   strings.Repeat("*3000000\r\n", 40),
	} {
		lb := &logBuffer{}
		tg := newTarget(t, targetOpts{addr: hostileServer(t, reply), logger: lb.logger()})
		got := scrape(t, tg, 10*time.Second)
		if got["redis_security_up"] != 0 {
			t.Errorf("%s: up %v, want 0", name, got["redis_security_up"])
		}
		if !strings.Contains(lb.String(), "exceeds the exporter's limits") {
			t.Errorf("%s: the log does not say why:\n%s", name, lb.String())
		}
	}
	srv := redistest.Start(t, "")
	if got := scrape(t, newTarget(t, targetOpts{addr: srv.Addr()}), 10*time.Second); got["redis_security_up"] != 1 {
		t.Errorf("a real server after the hostile ones: %v", got)
	}
}
