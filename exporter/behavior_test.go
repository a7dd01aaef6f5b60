package exporter_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// leastPrivilegeACL is the exporter user documented in the README.
var leastPrivilegeACL = "user exporter on >exporter-pw " + collector.LeastPrivilegeRules

// TestLeastPrivilegeUserCausesNoDenials: with the documented ACL user every
// collector succeeds and the exporter leaves no trace in ACL LOG or errorstats.
func TestLeastPrivilegeUserCausesNoDenials(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	for i := 0; i < 3; i++ {
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, map[string]float64{
			"redis_security_up": 1,
			`redis_security_scrape_collector_success{collector="info"}`:   1,
			`redis_security_scrape_collector_success{collector="config"}`: 1,
			`redis_security_scrape_collector_success{collector="acl"}`:    1,
			`redis_security_scrape_command_denied{command="info"}`:        0,
			`redis_security_scrape_command_denied{command="config|get"}`:  0,
			`redis_security_scrape_command_denied{command="acl|list"}`:    0,
		})
	}
	if log := srv.Do("default", "admin-pw", "ACL", "LOG").([]any); len(log) != 0 {
		t.Errorf("the exporter caused %d ACL LOG entries: %v", len(log), log)
	}
	info := srv.Do("default", "admin-pw", "INFO", "errorstats").(string)
	if strings.Contains(info, "errorstat_") {
		t.Errorf("the exporter caused error replies:\n%s", info)
	}
}

// TestDeniedCommand: a user without config|get gets NOPERM for CONFIG GET;
// the blind spot is reported and every other collector still reports.
func TestDeniedCommand(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\nuser exporter on >pw -@all +info +acl|list +acl|log")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "pw"})
	for i := 0; i < 2; i++ { // first scrape (compatible encoding) and steady state
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, map[string]float64{
			"redis_security_up": 1,
			`redis_security_scrape_command_denied{command="config|get"}`:  1,
			`redis_security_scrape_command_denied{command="info"}`:        0,
			`redis_security_scrape_command_denied{command="acl|list"}`:    0,
			`redis_security_scrape_collector_success{collector="config"}`: 0,
			`redis_security_scrape_collector_success{collector="info"}`:   1,
			// ACL LIST worked, but exposed_without_auth needs CONFIG.
			`redis_security_scrape_collector_success{collector="acl"}`: 0,
			"redis_security_auth_required":                             1,
			`redis_security_acl_user_enabled{user="exporter"}`:         1,
			"redis_security_exposed_without_auth":                      absent,
			"redis_security_protected_mode_enabled":                    absent,
			"redis_security_connected_clients":                         1,
		})
	}
}

// TestRenamedConfigCommand: rename-command CONFIG "" makes CONFIG GET an
// unknown command; that collector fails, the rest of the scrape works.
func TestRenamedConfigCommand(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "rename-command CONFIG \"\"")
	tg := newTarget(t, targetOpts{addr: srv.Addr()})
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		"redis_security_up": 1,
		`redis_security_scrape_collector_success{collector="config"}`: 0,
		`redis_security_scrape_collector_success{collector="info"}`:   1,
		`redis_security_scrape_command_denied{command="config|get"}`:  0,
		"redis_security_auth_required":                                0,
		"redis_security_bind_all_interfaces":                          absent,
	})
}

// TestDownThenRecovers: nothing listening -> up 0 well within the deadline;
// a server appearing on the port -> up 1 without restarting the exporter.
func TestDownThenRecovers(t *testing.T) {
	t.Parallel()
	port := redistest.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tg := newTarget(t, targetOpts{addr: addr})

	deadline := 3 * time.Second
	start := time.Now()
	got := scrape(t, tg, deadline)
	if elapsed := time.Since(start); elapsed > deadline+time.Second {
		t.Errorf("scrape of a stopped server took %v, beyond its %v deadline", elapsed, deadline)
	}
	expect(t, got, map[string]float64{
		"redis_security_up": 0,
		`redis_security_scrape_collector_success{collector="info"}`: 0,
		"redis_security_auth_required":                              absent,
	})

	redistest.StartWith(t, redistest.Options{Port: port})
	// go-redis may wait out a dial back-off after failed dials: retry.
	waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, deadline)["redis_security_up"] == 1 })
}

// TestUnresponsiveServerHonoursDeadline: a peer that accepts connections but
// never answers must not hold the scrape beyond its deadline.
func TestUnresponsiveServerHonoursDeadline(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	tg := newTarget(t, targetOpts{addr: l.Addr().String()})
	deadline := time.Second
	start := time.Now()
	got := scrape(t, tg, deadline)
	if elapsed := time.Since(start); elapsed > deadline+2*time.Second {
		t.Errorf("scrape took %v with a %v deadline", elapsed, deadline)
	}
	expect(t, got, map[string]float64{"redis_security_up": 0})
}

// TestWrongPassword: failed authentication is up 0, not a crash.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "requirepass right-one")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), password: "wrong-one"})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 0})
	// One failed AUTH per attempt: the exporter must not inflate the
	// failure counters it reports (go-redis alone would send HELLO AUTH and
	// then AUTH again).
	// Nor retry in the background: go-redis's dial circuit breaker would
	// probe once a second if the dialer reported the refusal as an error.
	time.Sleep(2500 * time.Millisecond)
	info := srv.Do("", "right-one", "INFO", "errorstats").(string)
	if !strings.Contains(info, "errorstat_WRONGPASS:count=1\r\n") {
		t.Errorf("want exactly one WRONGPASS for one scrape:\n%s", info)
	}
	if strings.Contains(info, "NOAUTH") {
		t.Errorf("the exporter sent commands before authenticating:\n%s", info)
	}
	// No password at all against a protected server: NOAUTH.
	tg = newTarget(t, targetOpts{addr: srv.Addr()})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 0})
}

// TestAuthRenamedAway: a server without AUTH (rename-command AUTH "")
// answers it with "unknown command ... with args beginning with:" and the
// password: neither the log, nor the scrape's error, nor the audit page
// may show it.
func TestAuthRenamedAway(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, `rename-command AUTH ""`)
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: srv.Addr(), password: "Sup3rSecretPw", logger: logs.logger()})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 0})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	a := tg.Audit(ctx)
	html, err := a.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.Error, "unknown command AUTH") {
		t.Errorf("the audit's error does not say AUTH is unknown: %q", a.Error)
	}
	for what, text := range map[string]string{"log": logs.String(), "audit error": a.Error, "audit page": html} {
		if strings.Contains(text, "Sup3rSecretPw") {
			t.Errorf("the %s shows the password:\n%s", what, text)
		}
	}
}

// TestServerLostItsPassword: a server that restarts without requirepass
// while the exporter still has a password is scraped without AUTH (it
// answers "AUTH <password> called without any password configured"), and
// shows as the open server it now is, with a warning in the log; it is not
// reported down.
func TestServerLostItsPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "requirepass right-one")
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: srv.Addr(), password: "right-one", logger: logs.logger()})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 1, "redis_security_auth_required": 1})
	srv.Stop()
	redistest.StartWith(t, redistest.Options{Port: srv.Port, Config: "protected-mode no"})
	waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_auth_required": 0})
	if !strings.Contains(logs.String(), "no password for the default user") {
		t.Errorf("no warning that the server lost its password:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "right-one") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
}

// TestDefaultUserOffWithoutPassword: a default user that is off and has no
// password gets the same answer to AUTH as one that is on; the exporter
// checks with one PING and reports an error that says what to do, instead of
// keeping a connection whose every command is refused with NOAUTH.
func TestDefaultUserOffWithoutPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default off nopass ~* &* +@all")
	var logs logBuffer
	tg := newTarget(t, targetOpts{addr: srv.Addr(), password: "right-one", logger: logs.logger()})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 0})
	if !strings.Contains(logs.String(), "no password and is off: set --redis.user") {
		t.Errorf("the log does not say the default user is off:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "scraping without authentication") {
		t.Errorf("the log claims the exporter goes on without AUTH:\n%s", logs.String())
	}
}

// TestRestartIsFollowed: a server restarted with another configuration (new
// run_id) is followed without restarting the exporter.
func TestRestartIsFollowed(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "protected-mode yes")
	tg := newTarget(t, targetOpts{addr: srv.Addr()})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 1, "redis_security_protected_mode_enabled": 1})
	srv.Stop()
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_up": 0})
	redistest.StartWith(t, redistest.Options{Port: srv.Port, Config: "protected-mode no"})
	waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{"redis_security_protected_mode_enabled": 0})
}

// TestConcurrentScrapesShareOneFlight: scrapes that overlap send the plan once.
// The server is paused so that every request arrives while the first is in
// flight; commandstats then shows a single INFO from the exporter.
func TestConcurrentScrapesShareOneFlight(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	tg := newTarget(t, targetOpts{addr: srv.Addr()})
	scrape(t, tg, 3*time.Second) // connect and learn the version
	admin := srv.Client("", "")
	ctx := context.Background()
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]map[string]float64, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = scrape(t, tg, 5*time.Second)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r["redis_security_up"] != 1 {
			t.Errorf("scrape %d: up = %v", i, r["redis_security_up"])
		}
	}
	stats := admin.Info(ctx, "commandstats").Val()
	// The test's own INFO commandstats is not yet counted while it runs.
	if calls := cmdstatCalls(stats, "info"); calls != 1 {
		t.Errorf("exporter sent INFO %d times for 20 overlapping scrapes, want 1\n%s", calls, stats)
	}
}

// TestConnectionKeptBetweenScrapes: steady-state scrapes reuse one connection.
func TestConnectionKeptBetweenScrapes(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "")
	admin := srv.Client("", "")
	ctx := context.Background()
	admin.Ping(ctx)
	tg := newTarget(t, targetOpts{addr: srv.Addr()})
	first := scrape(t, tg, 3*time.Second)
	for i := 0; i < 5; i++ {
		scrape(t, tg, 3*time.Second)
	}
	last := scrape(t, tg, 3*time.Second)
	if a, b := first["redis_security_connections_received_total"], last["redis_security_connections_received_total"]; a != b {
		t.Errorf("connections received went from %v to %v over 6 scrapes: the connection is not kept", a, b)
	}
	// After the first scrape the server's version is known and CONFIG GET
	// goes out as one multi-parameter call per scrape.
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	scrape(t, tg, 3*time.Second)
	if calls := cmdstatCalls(admin.Info(ctx, "commandstats").Val(), "config|get"); calls != 1 {
		t.Errorf("CONFIG GET calls per steady-state scrape = %d, want 1", calls)
	}
}

// TestUnixSocketTarget: unix:// addresses work.
func TestUnixSocketTarget(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "r.sock")
	redistest.Start(t, "unixsocket "+sock+"\nunixsocketperm 700")
	tg := newTarget(t, targetOpts{addr: "unix://" + sock})
	expect(t, scrape(t, tg, 3*time.Second), map[string]float64{
		"redis_security_up":                          1,
		"redis_security_unixsocket_permissions":      0o700,
		"redis_security_unixsocket_world_accessible": 0,
	})
}

// TestReplicaReportsItsSource: a replica names the master it follows.
func TestReplicaReportsItsSource(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t, "")
	replica := redistest.Start(t, "replicaof 127.0.0.1 "+strconv.Itoa(master.Port))
	tg := newTarget(t, targetOpts{addr: replica.Addr()})
	got := scrape(t, tg, 3*time.Second)
	expect(t, got, map[string]float64{
		`redis_security_replication_source_info{master_host="127.0.0.1",master_port="` + strconv.Itoa(master.Port) + `"}`: 1,
		serverInfo(t, replica, "replica"): 1,
	})
	if keys := withPrefix(scrape(t, newTarget(t, targetOpts{addr: master.Addr()}), 3*time.Second), "redis_security_replication_source_info"); len(keys) != 0 {
		t.Errorf("master reports a replication source: %v", keys)
	}
}

func cmdstatCalls(info, cmd string) int {
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			return n
		}
	}
	return 0
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("condition not met within %v", timeout)
}
