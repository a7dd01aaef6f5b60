package exporter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

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
		tg := newTarget(t, targetOpts{addr: redistest.HostileServer(t, reply), logger: lb.logger()})
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
