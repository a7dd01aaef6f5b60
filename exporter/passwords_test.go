package exporter_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
	"github.com/redis-security/redis_security_exporter/exporter"
)

// syncBuffer collects log output written from scrape goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWeakAndSharedSecrets (no "password" in its name: the name is in the
// server's temp dir, a label value): acl_user_weak_password flags the user whose
// password is on the bundled list, acl_user_shared_password the users who
// share one, and neither a password nor its hash reaches the exposition or
// the debug log.
func TestWeakAndSharedSecrets(t *testing.T) {
	t.Parallel()
	passwords := map[string]string{ // user -> password
		"alice":   "password",
		"ops":     "s3cret-default",
		"default": "s3cret-default",
		"carol":   "Xq9#long-unique-pw",
		"dave":    "foobared",
	}
	srv := redistest.Start(t, "user alice on >password ~app:* -@all +get\n"+
		"user ops on >s3cret-default ~* +@all\n"+
		"user default on >s3cret-default ~* +@all\n"+
		"user carol on >Xq9#long-unique-pw ~* +@all\n"+
		"user dave on >foobared -@all\n"+
		"user bob on nopass ~* +@all")

	weak, n, err := collector.LoadWeakPasswords(true, "")
	if err != nil || weak == nil || n == 0 {
		t.Fatalf("LoadWeakPasswords: %v, %d hashes, %v", weak, n, err)
	}
	var scrapers []collector.Scraper
	for _, e := range collector.All(collector.Options{WeakPasswords: weak}) {
		scrapers = append(scrapers, e.Scraper)
	}
	var logs syncBuffer
	logger := level.NewFilter(log.NewLogfmtLogger(&logs), level.AllowDebug())
	tg := newTarget(t, targetOpts{addr: srv.Addr(), password: "s3cret-default", logger: logger, scrapers: scrapers})

	for i := 0; i < 2; i++ { // first scrape and steady state
		got := scrape(t, tg, 5*time.Second)
		expect(t, got, map[string]float64{
			"redis_security_up": 1,
			`redis_security_scrape_collector_success{collector="acl"}`: 1,
			`redis_security_acl_user_weak_password{user="alice"}`:      1,
			`redis_security_acl_user_weak_password{user="ops"}`:        0,
			`redis_security_acl_user_weak_password{user="default"}`:    0,
			`redis_security_acl_user_weak_password{user="carol"}`:      0,
			`redis_security_acl_user_weak_password{user="bob"}`:        0, // nopass: no hash to match
			`redis_security_acl_user_weak_password{user="dave"}`:       1,
			`redis_security_acl_user_shared_password{user="ops"}`:      1,
			`redis_security_acl_user_shared_password{user="default"}`:  1,
			`redis_security_acl_user_shared_password{user="alice"}`:    0,
			`redis_security_acl_user_shared_password{user="carol"}`:    0,
			`redis_security_acl_user_shared_password{user="bob"}`:      0,
			`redis_security_acl_user_shared_password{user="dave"}`:     0,
		})
		// No label value carries a password, not even "password". Check
		// ids (user_weak_password ...) are names from the code, not values
		// from the server: they are left out of the search.
		for key := range got {
			if strings.HasPrefix(key, "redis_security_check_failed{") {
				continue
			}
			if i := strings.IndexByte(key, '{'); i >= 0 {
				for user, pw := range passwords {
					if strings.Contains(strings.ToLower(key[i:]), strings.ToLower(pw)) {
						t.Errorf("a label of %s carries %s's password", key, user)
					}
				}
			}
		}
	}

	// The full exposition as served on /metrics.
	h := exporter.MetricsHandler(tg, prometheus.NewRegistry(), exporter.HandlerOptions{DefaultTimeout: 5 * time.Second, Logger: logger})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	exposition := string(body)
	if !strings.Contains(exposition, `redis_security_acl_user_weak_password{user="alice"} 1`) {
		t.Fatalf("the exposition lacks alice's weak password:\n%s", exposition)
	}
	level.Debug(logger).Log("msg", "end of test") // the debug log is live
	if !strings.Contains(logs.String(), "end of test") {
		t.Fatal("the debug log captured nothing")
	}

	// Every hash, and every password but alice's "password" (a word of the
	// metric names and help texts: checked in label values above, and by
	// dave's "foobared" here), appears nowhere.
	for user, pw := range passwords {
		sum := sha256.Sum256([]byte(pw))
		needles := []string{hex.EncodeToString(sum[:])}
		if pw != "password" {
			needles = append(needles, pw)
		}
		for _, needle := range needles {
			for what, out := range map[string]string{"exposition": exposition, "debug log": logs.String()} {
				if strings.Contains(strings.ToLower(out), strings.ToLower(needle)) {
					t.Errorf("%s's password or its hash (%s) is in the %s:\n%s", user, needle, what, out)
				}
			}
		}
	}
}

// TestWeakPasswordOmittedWithoutList: with no list (Options.WeakPasswords
// nil) acl_user_weak_password is not reported; shared_password still is.
func TestWeakPasswordOmittedWithoutList(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "user alice on >password ~* +@all\nuser bob on >password ~* +@all")
	var noList []collector.Scraper
	for _, e := range collector.All(collector.DefaultOptions()) { // WeakPasswords nil
		noList = append(noList, e.Scraper)
	}
	tg := newTarget(t, targetOpts{addr: srv.Addr(), scrapers: noList})
	got := scrape(t, tg, 5*time.Second)
	expect(t, got, map[string]float64{
		`redis_security_acl_user_weak_password{user="alice"}`:     absent,
		`redis_security_acl_user_weak_password{user="default"}`:   absent,
		`redis_security_acl_user_shared_password{user="alice"}`:   1,
		`redis_security_acl_user_shared_password{user="bob"}`:     1,
		`redis_security_acl_user_shared_password{user="default"}`: 0,
	})
	if keys := withPrefix(got, "redis_security_acl_user_weak_password"); len(keys) != 0 {
		t.Errorf("weak_password reported without a list: %v", keys)
	}
}
