package exporter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// TestDangerousCommands: availability (rename-command), per-user permission
// from ACL DRYRUN combined with the gates, and the caches that keep DRYRUN
// and COMMAND INFO out of steady-state scrapes.
func TestDangerousCommands(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "rename-command FLUSHALL \"\"\nrename-command KEYS KEYS_renamed_x\nenable-debug-command no\nenable-module-command yes\n"+
		"user default on >admin-pw ~* &* +@all\n"+
		"user root on >root-pw ~* &* +@all\n"+
		"user safe on >safe-pw ~* &* +@all -@dangerous\n"+
		"user reader on >reader-pw ~* -@all +get +config|get\n"+
		"user off off >off-pw ~* &* +@all\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	admin := srv.Client("default", "admin-pw")
	ctx := context.Background()

	want := map[string]float64{
		`redis_security_command_available{command="FLUSHALL"}`:             0,
		`redis_security_command_available{command="KEYS"}`:                 0,
		`redis_security_command_available{command="FLUSHDB"}`:              1,
		`redis_security_command_available{command="DEBUG"}`:                1,
		`redis_security_command_allowed{command="FLUSHDB",user="root"}`:    1,
		`redis_security_command_allowed{command="FLUSHDB",user="safe"}`:    0,
		`redis_security_command_allowed{command="FLUSHDB",user="reader"}`:  0,
		`redis_security_command_allowed{command="FLUSHALL",user="root"}`:   0, // renamed away
		`redis_security_command_allowed{command="KEYS",user="root"}`:       0,
		`redis_security_command_allowed{command="DEBUG",user="root"}`:      0, // enable-debug-command no
		`redis_security_command_allowed{command="MODULE",user="root"}`:     1, // enable-module-command yes
		`redis_security_command_allowed{command="MODULE",user="safe"}`:     0,
		`redis_security_command_allowed{command="CONFIG",user="root"}`:     1, // CONFIG SET
		`redis_security_command_allowed{command="CONFIG",user="reader"}`:   0, // CONFIG GET only
		`redis_security_command_allowed{command="CONFIG",user="exporter"}`: 0,
		`redis_security_command_allowed{command="FLUSHDB",user="off"}`:     absent,
		`redis_security_command_allowed_users{command="FLUSHDB"}`:          2, // root, default
		`redis_security_command_allowed_users{command="DEBUG"}`:            0,
		`redis_security_command_allowed_users{command="FLUSHALL"}`:         0,
		`redis_security_command_allowed_users{command="CONFIG"}`:           2,
		"redis_security_command_users_not_evaluated":                       0,
		`redis_security_scrape_collector_success{collector="commands"}`:    1,
	}
	// DRYRUN is sent on the first scrape only (then cached), so its
	// command_denied series exists only then.
	expect(t, scrape(t, tg, 5*time.Second), merge(want, map[string]float64{`redis_security_scrape_command_denied{command="acl|dryrun"}`: 0}))

	// Steady state: neither DRYRUN nor COMMAND INFO is sent again.
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		expect(t, scrape(t, tg, 5*time.Second), want)
	}
	stats := admin.Info(ctx, "commandstats").Val()
	if n := cmdstatCalls(stats, "acl|dryrun"); n != 0 {
		t.Errorf("steady-state scrapes sent %d ACL DRYRUN", n)
	}
	if n := cmdstatCalls(stats, "command|info"); n != 0 {
		t.Errorf("steady-state scrapes sent %d COMMAND INFO", n)
	}

	// Changing one user re-evaluates that user only.
	if err := admin.Do(ctx, "ACL", "SETUSER", "safe", "+flushdb").Err(); err != nil {
		t.Fatal(err)
	}
	admin.ConfigResetStat(ctx)
	want[`redis_security_command_allowed{command="FLUSHDB",user="safe"}`] = 1
	want[`redis_security_command_allowed_users{command="FLUSHDB"}`] = 3
	expect(t, scrape(t, tg, 5*time.Second), want)
	stats = admin.Info(ctx, "commandstats").Val()
	if n, perUser := cmdstatCalls(stats, "acl|dryrun"), len(strings.Fields(dangerousList)); n != perUser {
		t.Errorf("ACL DRYRUN calls after changing one user = %d, want %d (one user's)", n, perUser)
	}
	if log := srv.Do("default", "admin-pw", "ACL", "LOG").([]any); len(log) != 0 {
		t.Errorf("the exporter caused ACL LOG entries: %v", log)
	}
}

// dangerousList is the default command list of metrics.md.
const dangerousList = "FLUSHALL FLUSHDB CONFIG DEBUG SHUTDOWN MODULE KEYS EVAL EVALSHA SCRIPT FUNCTION MONITOR REPLICAOF SLAVEOF MIGRATE RESTORE SAVE BGSAVE BGREWRITEAOF SWAPDB CLUSTER ACL CLIENT SYNC PSYNC FAILOVER"

// TestDryRunDeniedFallsBackToRules: an exporter user without acl|dryrun
// gets its blind spot reported once, then the rules are evaluated locally
// and no further denial is caused.
func TestDryRunDeniedFallsBackToRules(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\nuser safe on >safe-pw ~* +@all -@dangerous\n"+
		"user exporter on >pw -@all +info +config|get +acl|list +acl|log +command|info +client|list +client|id")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "pw"})
	first := scrape(t, tg, 5*time.Second)
	expect(t, first, map[string]float64{`redis_security_scrape_command_denied{command="acl|dryrun"}`: 1})
	srv.Do("default", "admin-pw", "ACL", "LOG", "RESET")
	for i := 0; i < 2; i++ {
		expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
			// DRYRUN is no longer sent, but the blind spot stays visible.
			`redis_security_scrape_command_denied{command="acl|dryrun"}`:       1,
			`redis_security_command_allowed{command="FLUSHDB",user="default"}`: 1,
			`redis_security_command_allowed{command="FLUSHDB",user="safe"}`:    0,
			`redis_security_command_allowed{command="CONFIG",user="safe"}`:     0,
			`redis_security_command_allowed{command="EVAL",user="safe"}`:       1,
		})
	}
	if log := srv.Do("default", "admin-pw", "ACL", "LOG").([]any); len(log) != 0 {
		t.Errorf("the exporter kept causing denials: %d ACL LOG entries", len(log))
	}
}

// TestCommandTableFollowsRestart: COMMAND INFO is cached per server run; a
// restart with another rename-command is noticed in the same scrape.
func TestCommandTableFollowsRestart(t *testing.T) {
	t.Parallel()
	conf := "user default on >admin-pw ~* &* +@all\n" + leastPrivilegeACL + "\n"
	srv := redistest.Start(t, conf+"rename-command FLUSHALL \"\"")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	scrape(t, tg, 5*time.Second)
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{`redis_security_command_available{command="FLUSHALL"}`: 0})
	srv.Stop()
	redistest.StartWith(t, redistest.Options{Port: srv.Port, Config: conf})
	waitFor(t, 10*time.Second, func() bool { return scrape(t, tg, 3*time.Second)["redis_security_up"] == 1 })
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
		`redis_security_command_available{command="FLUSHALL"}`:              1,
		`redis_security_command_allowed{command="FLUSHALL",user="default"}`: 1,
	})
}

// TestMaxUsersCap: users beyond --commands.max-users are counted, not
// evaluated, and allowed_users covers the evaluated ones.
func TestMaxUsersCap(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\nuser a1 on >x ~* +@all\nuser a2 on >x ~* +@all\n"+leastPrivilegeACL)
	opts := collector.DefaultOptions()
	opts.MaxUsers = 2
	var scrapers []collector.Scraper
	for _, e := range collector.All(opts) {
		scrapers = append(scrapers, e.Scraper)
	}
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", scrapers: scrapers})
	expect(t, scrape(t, tg, 5*time.Second), map[string]float64{
		"redis_security_command_users_not_evaluated":                       2, // default and exporter (after a1, a2)
		`redis_security_command_allowed{command="FLUSHDB",user="a1"}`:      1,
		`redis_security_command_allowed{command="FLUSHDB",user="a2"}`:      1,
		`redis_security_command_allowed{command="FLUSHDB",user="default"}`: absent,
		`redis_security_command_allowed_users{command="FLUSHDB"}`:          2,
	})
}

// TestDryRunUsersDifferingInCaseOnly: ACL user names are case-sensitive, so
// "Ops" and "ops" are two users, and each gets its own ACL DRYRUN answers
// (the requests differ only in the user name's case).
func TestDryRunUsersDifferingInCaseOnly(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+
		"user Ops on >ops1-pw ~* &* +@all\n"+
		"user ops on >ops2-pw ~* &* +@all -flushdb\n"+leastPrivilegeACL)
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	want := map[string]float64{
		`redis_security_command_allowed{command="FLUSHDB",user="Ops"}`:  1,
		`redis_security_command_allowed{command="FLUSHDB",user="ops"}`:  0,
		`redis_security_command_allowed{command="FLUSHALL",user="Ops"}`: 1,
		`redis_security_command_allowed{command="FLUSHALL",user="ops"}`: 1,
		`redis_security_command_allowed_users{command="FLUSHDB"}`:       2, // Ops, default
	}
	for i := 0; i < 2; i++ { // DRYRUN answers, then the cached ones
		expect(t, scrape(t, tg, 5*time.Second), want)
	}
}
