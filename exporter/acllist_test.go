package exporter_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// commandCalls returns INFO commandstats' calls of one command.
func commandCalls(t *testing.T, admin *redis.Client, name string) int {
	t.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "cmdstat_"+name+":calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(v, ",", 2)[0])
			return n
		}
	}
	return 0
}

// comparable drops what differs between two targets scraped one after the
// other whatever ACL LIST says: durations, and the clients' recent maximum
// buffers (INFO's, which depend on the other connection's last requests).
func comparable(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if !strings.Contains(k, "duration_seconds") && !strings.Contains(k, "client_recent_max") {
			out[k] = v
		}
	}
	return out
}

// TestACLListReuse: with --acl.list-max-age a steady scrape leaves ACL LIST
// out and reports exactly what reading it every scrape reports; an added,
// changed or deleted user, ACL LOAD and CONFIG SET requirepass show on the
// very next scrape; the age bound re-reads it; 0 reads it every scrape.
func TestACLListReuse(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL+"\nuser app on >app-pw ~app:* -@all +get\n")
	admin := srv.Client("default", "admin-pw")
	ctx := context.Background()
	if err := redistest.AddUsers(ctx, admin, 70); err != nil { // reuse pays from 64 users
		t.Fatal(err)
	}
	reused := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: time.Hour})
	every := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	for i := 0; i < 3; i++ { // first scrapes: facts, commandstats stamp, DRYRUN
		scrape(t, reused, 10*time.Second)
		scrape(t, every, 10*time.Second)
	}
	// Both scrapes of a step see the same server: compare, then check that
	// only the every-scrape target read ACL LIST.
	step := func(what string) map[string]float64 {
		t.Helper()
		before, configBefore := commandCalls(t, admin, "acl|list"), commandCalls(t, admin, "config|get")
		got := comparable(scrape(t, reused, 10*time.Second))
		mid, configMid := commandCalls(t, admin, "acl|list"), commandCalls(t, admin, "config|get")
		want := comparable(scrape(t, every, 10*time.Second))
		after := commandCalls(t, admin, "acl|list")
		if after-mid != 1 {
			t.Fatalf("%s: the every-scrape target sent ACL LIST %d times", what, after-mid)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s = %v (present %v), reading ACL LIST every scrape gives %v", what, k, g, ok, v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: %s only with reuse", what, k)
			}
		}
		t.Logf("%s: the reusing target sent ACL LIST %d times", what, mid-before)
		got["acl_list_calls"] = float64(mid - before)
		got["config_get_calls"] = float64(configMid - configBefore)
		return got
	}
	for i := 0; i < 3; i++ {
		if got := step("steady"); got["acl_list_calls"] != 0 || got["config_get_calls"] != 0 {
			t.Fatalf("steady scrape %d read ACL LIST %v times, CONFIG GET %v times", i, got["acl_list_calls"], got["config_get_calls"])
		}
	}
	changes := []struct {
		what string
		do   []any
		key  string
		want float64
	}{
		{"added user", []any{"ACL", "SETUSER", "intruder", "on", "nopass", "+@all", "~*"}, `redis_security_acl_user_nopass{user="intruder"}`, 1},
		{"changed user", []any{"ACL", "SETUSER", "app", "+@all"}, `redis_security_acl_user_unrestricted{scope="commands",user="app"}`, 1},
		{"deleted user", []any{"ACL", "DELUSER", "intruder"}, `redis_security_acl_user_nopass{user="intruder"}`, absent},
		{"CONFIG SET requirepass", []any{"CONFIG", "SET", "requirepass", "new-admin-pw"}, `redis_security_acl_user_nopass{user="default"}`, 0},
		// CONFIG GET is reused with ACL LIST, and read again on CONFIG SET.
		{"CONFIG SET protected-mode", []any{"CONFIG", "SET", "protected-mode", "no"}, `redis_security_protected_mode_enabled`, 0},
		{"CONFIG SET timeout", []any{"CONFIG", "SET", "timeout", "300"}, `redis_security_idle_timeout_seconds`, 300},
	}
	for _, c := range changes {
		if err := admin.Do(ctx, c.do...).Err(); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		got := step(c.what)
		if got["acl_list_calls"] != 1 || got["config_get_calls"] != 1 {
			t.Errorf("%s: ACL LIST read %v times, CONFIG GET %v times, want once each", c.what, got["acl_list_calls"], got["config_get_calls"])
		}
		if v, ok := got[c.key]; (c.want == absent && ok) || (c.want != absent && (!ok || v != c.want)) {
			t.Errorf("%s: %s = %v (present %v), want %v", c.what, c.key, v, ok, c.want)
		}
		if got := step(c.what + ", then steady"); got["acl_list_calls"] != 0 || got["config_get_calls"] != 0 {
			t.Errorf("%s: the scrape after the change read ACL LIST or CONFIG GET again", c.what)
		}
	}

	// The age bound: an unchanged list is read again once it is older.
	aged := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: 2 * time.Second})
	for i := 0; i < 3; i++ {
		scrape(t, aged, 10*time.Second)
	}
	before := commandCalls(t, admin, "acl|list")
	scrape(t, aged, 10*time.Second)
	if n := commandCalls(t, admin, "acl|list") - before; n != 0 {
		t.Fatalf("a fresh list was read again (%d)", n)
	}
	time.Sleep(2100 * time.Millisecond)
	scrape(t, aged, 10*time.Second)
	if n := commandCalls(t, admin, "acl|list") - before; n != 1 {
		t.Fatalf("after its max age ACL LIST was read %d times, want once", n)
	}
}

// TestACLListSmallReadEveryScrape: below 64 users reusing ACL LIST does not
// pay (INFO commandstats costs the server more): it is read every scrape,
// as with --acl.list-max-age=0.
func TestACLListSmallReadEveryScrape(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	admin := srv.Client("default", "admin-pw")
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: time.Hour})
	for i := 0; i < 3; i++ {
		scrape(t, tg, 10*time.Second)
	}
	before := commandCalls(t, admin, "acl|list")
	for i := 0; i < 3; i++ {
		scrape(t, tg, 10*time.Second)
	}
	if n := commandCalls(t, admin, "acl|list") - before; n != 3 {
		t.Fatalf("ACL LIST sent %d times in 3 scrapes, want 3", n)
	}
}

// TestACLListReadAfterRestart: a restart (new run_id) reads ACL LIST in the
// scrape that sees it, although the reused reply is young: users created
// with ACL SETUSER are gone after the restart and must not be reported.
func TestACLListReadAfterRestart(t *testing.T) {
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL)
	admin := srv.Client("default", "admin-pw")
	if err := redistest.AddUsers(context.Background(), admin, 70); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw", aclListMaxAge: time.Hour})
	for i := 0; i < 4; i++ {
		scrape(t, tg, 10*time.Second)
	}
	if _, ok := scrape(t, tg, 10*time.Second)[`redis_security_acl_user_enabled{user="user0000"}`]; !ok {
		t.Fatal("user0000 missing before the restart")
	}
	srv.Restart()
	got := scrape(t, tg, 10*time.Second)
	if got["redis_security_up"] != 1 {
		t.Fatalf("not up after the restart: %v", got["redis_security_up"])
	}
	if _, ok := got[`redis_security_acl_user_enabled{user="user0000"}`]; ok {
		t.Fatal("a user of the previous run is still reported after the restart")
	}
	if got[`redis_security_acl_users{enabled="true"}`] != 2 {
		t.Fatalf("acl_users{enabled=true} = %v after the restart, want 2", got[`redis_security_acl_users{enabled="true"}`])
	}
}
