package exporter_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// TestPerUserSeriesFollowChanges: the acl and commands collectors keep each
// user's series between scrapes; a change of the user, of another user's
// password (shared passwords) or a deleted user must still show on the next
// scrape.
func TestPerUserSeriesFollowChanges(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user default on >admin-pw ~* &* +@all\n"+leastPrivilegeACL+"\n"+
		"user alice on >alice-pw-long-and-unique ~app:* -@all +get\n"+
		"user bob on >bob-pw-long-and-unique ~app:* -@all +get\n")
	admin := srv.Client("default", "admin-pw")
	ctx := context.Background()
	do := func(args ...any) {
		t.Helper()
		if err := admin.Do(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tg := newTarget(t, targetOpts{addr: srv.Addr(), user: "exporter", password: "exporter-pw"})
	want := map[string]float64{
		`redis_security_acl_user_shared_password{user="alice"}`:           0,
		`redis_security_acl_user_shared_password{user="bob"}`:             0,
		`redis_security_command_allowed{command="FLUSHALL",user="alice"}`: 0,
		`redis_security_acl_user_nopass{user="bob"}`:                      0,
	}
	for i := 0; i < 3; i++ { // cold, follow-up, cached
		expect(t, scrape(t, tg, 5*time.Second), want)
	}

	// Alice's own rules change.
	do("ACL", "SETUSER", "alice", "+flushall")
	want[`redis_security_command_allowed{command="FLUSHALL",user="alice"}`] = 1
	// Bob takes alice's password: both now share one, though alice's line
	// did not change.
	do("ACL", "SETUSER", "bob", "resetpass", ">alice-pw-long-and-unique")
	want[`redis_security_acl_user_shared_password{user="alice"}`] = 1
	want[`redis_security_acl_user_shared_password{user="bob"}`] = 1
	for i := 0; i < 2; i++ {
		expect(t, scrape(t, tg, 5*time.Second), want)
	}

	// Bob goes: his series go with him, alice no longer shares.
	do("ACL", "DELUSER", "bob")
	delete(want, `redis_security_acl_user_nopass{user="bob"}`)
	want[`redis_security_acl_user_shared_password{user="bob"}`] = absent
	want[`redis_security_acl_user_nopass{user="bob"}`] = absent
	want[`redis_security_command_allowed{command="GET",user="bob"}`] = absent
	want[`redis_security_acl_user_shared_password{user="alice"}`] = 0
	for i := 0; i < 2; i++ {
		expect(t, scrape(t, tg, 5*time.Second), want)
	}
}
