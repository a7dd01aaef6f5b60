package probe

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/config"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// TestPoolNeverServesAReplacedModule: a reload that changes a module's
// password races with probes. Whatever the interleaving, the new module
// never scrapes through a target built with the old password (or the old
// allowlist's dialer), and a request admitted by the old config does not
// leave an old-build target in the pool. The interleavings are produced
// step by step: SetModules stores the new modules before it takes the
// pool's lock, and a request checks its module before acquire.
func TestPoolNeverServesAReplacedModule(t *testing.T) {
	t.Parallel()
	// The server knows only the new password: a target built with the old
	// one is down.
	s := redistest.Start(t, "user default on >admin ~* &* +@all\nuser exporter on >new-pw "+collector.LeastPrivilegeRules+"\n")
	build := func(pw string) map[string]*Module {
		t.Helper()
		c, err := config.Parse([]byte(fmt.Sprintf("modules:\n  m:\n    username: exporter\n    password_env: PW\n    allowed_targets: [\"127.0.0.1:%d\"]\n", s.Port)))
		if err != nil {
			t.Fatal(err)
		}
		enabled := map[string]bool{}
		for _, e := range collector.All(collector.DefaultOptions()) {
			enabled[e.Scraper.Name()] = e.EnabledByDefault
		}
		mods, err := BuildModules(c, Defaults{Options: collector.DefaultOptions(), Enabled: enabled,
			Getenv: func(string) string { return pw }})
		if err != nil {
			t.Fatal(err)
		}
		return mods
	}
	addr, err := exporter.ParseAddress(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	up := func(e *pooled) bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, ok := e.target.ScrapeUp(ctx)
		return ok
	}

	// 1. A pooled target of the old build; the reload has stored the new
	// modules but not yet retired the pool when the next probe acquires.
	old := build("old-pw")
	p := New(old, Options{})
	defer p.Close()
	e, err := p.acquire(old["m"], addr)
	if err != nil {
		t.Fatal(err)
	}
	if up(e) {
		t.Fatal("the old password works: the test proves nothing")
	}
	p.release(e)
	fresh := build("new-pw")
	p.modules.Store(&fresh)
	e, err = p.acquire(fresh["m"], addr)
	if err != nil {
		t.Fatal(err)
	}
	if !up(e) {
		t.Error("the new module scraped through a target built with the replaced password")
	}
	p.release(e)
	p.SetModules(fresh) // the reload finishes
	if n := p.PooledTargets(); n != 1 {
		t.Errorf("%d pooled targets, want 1", n)
	}

	// 2. A request admitted by the old config acquires after the reload
	// finished: it may finish with its module, but the pool must not keep
	// that build for the new module's probes.
	p.SetModules(old)
	stale := p.Modules()["m"]
	p.SetModules(fresh)
	e, err = p.acquire(stale, addr)
	if err != nil {
		t.Fatal(err)
	}
	p.release(e)
	e, err = p.acquire(fresh["m"], addr)
	if err != nil {
		t.Fatal(err)
	}
	if !up(e) {
		t.Error("a request admitted by the replaced config left its target in the pool for the new module")
	}
	p.release(e)
	if n := p.PooledTargets(); n != 1 {
		t.Errorf("%d pooled targets, want 1", n)
	}
}
