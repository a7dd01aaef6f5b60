package vuln

import (
	"testing"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func day(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEndOfLife(t *testing.T) {
	const today = "2026-09-01"
	for _, tc := range []struct {
		flavor    redisinfo.Flavor
		version   string
		at        string
		eol, know bool
	}{
		// Redis: 6.0 and 7.0 ended, so did everything before 6.2.
		{redisinfo.FlavorRedis, "6.0.20", today, true, true},
		{redisinfo.FlavorRedis, "7.0.15", today, true, true},
		{redisinfo.FlavorRedis, "7.0.0", today, true, true},
		{redisinfo.FlavorRedis, "5.0.14", today, true, true},
		{redisinfo.FlavorRedis, "4.0.14", today, true, true},
		{redisinfo.FlavorRedis, "2.8.24", today, true, true},
		// 6.2 and 7.2 are on extended support; 7.4 and 8.2+ supported.
		{redisinfo.FlavorRedis, "6.2.16", today, false, true},
		{redisinfo.FlavorRedis, "7.2.6", today, false, true},
		{redisinfo.FlavorRedis, "7.4.1", today, false, true},
		{redisinfo.FlavorRedis, "8.2.1", today, false, true},
		{redisinfo.FlavorRedis, "8.4.0", today, false, true},
		{redisinfo.FlavorRedis, "8.6.0", today, false, true},
		{redisinfo.FlavorRedis, "8.8.0", today, false, true},
		// 8.0 is marked unsupported in SECURITY.md.
		{redisinfo.FlavorRedis, "8.0.2", today, true, true},
		// Branches the table does not know.
		{redisinfo.FlavorRedis, "7.1.240", today, false, false}, // a 7.2 release candidate
		{redisinfo.FlavorRedis, "8.10.0", today, false, true},
		{redisinfo.FlavorRedis, "8.12.0", today, false, false},
		{redisinfo.FlavorRedis, "9.0.0", today, false, false},
		// Valkey, on its own version: every branch supported today.
		{redisinfo.FlavorValkey, "7.2.4", today, false, true},
		{redisinfo.FlavorValkey, "8.0.1", today, false, true},
		{redisinfo.FlavorValkey, "8.1.0", today, false, true},
		{redisinfo.FlavorValkey, "9.0.0", today, false, true},
		{redisinfo.FlavorValkey, "9.1.0", today, false, true},
		// Announced ends take effect on their day.
		{redisinfo.FlavorValkey, "7.2.9", "2029-04-15", false, true},
		{redisinfo.FlavorValkey, "7.2.9", "2029-04-16", true, true},
		{redisinfo.FlavorValkey, "8.0.6", "2027-09-14", false, true},
		{redisinfo.FlavorValkey, "8.0.6", "2027-09-15", true, true},
		{redisinfo.FlavorValkey, "8.1.4", "2030-03-31", true, true},
		{redisinfo.FlavorValkey, "9.0.4", "2028-10-21", true, true},
		// 9.1 is only known supported until 2029-05-19.
		{redisinfo.FlavorValkey, "9.1.0", "2029-05-19", false, true},
		{redisinfo.FlavorValkey, "9.1.0", "2029-05-20", false, false},
		// 9.2 likewise, three years from 9.2.0 (2026-11-18).
		{redisinfo.FlavorValkey, "9.2.1", today, false, true},
		{redisinfo.FlavorValkey, "9.2.1", "2029-11-18", false, true},
		{redisinfo.FlavorValkey, "9.2.1", "2029-11-19", false, false},
		// Unknown Valkey branches, and no Valkey below 7.2.
		{redisinfo.FlavorValkey, "9.3.0", today, false, false},
		{redisinfo.FlavorValkey, "10.0.0", today, false, false},
		{redisinfo.FlavorValkey, "6.2.0", today, false, false},
		{"", "7.0.15", today, false, false},
	} {
		eol, known := Embedded().eol.endOfLife(tc.flavor, ver(t, tc.version), day(t, tc.at))
		if eol != tc.eol || known != tc.know {
			t.Errorf("%s %s on %s: eol=%v known=%v, want eol=%v known=%v",
				tc.flavor, tc.version, tc.at, eol, known, tc.eol, tc.know)
		}
	}
}

func TestEndOfLifeUsesClock(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { return day(t, "2030-01-01") }
	if eol, known := EndOfLife(redisinfo.FlavorValkey, ver(t, "7.2.4")); !eol || !known {
		t.Errorf("Valkey 7.2 in 2030: eol=%v known=%v, want true true", eol, known)
	}
	now = func() time.Time { return day(t, "2026-09-01") }
	if eol, known := EndOfLife(redisinfo.FlavorValkey, ver(t, "7.2.4")); eol || !known {
		t.Errorf("Valkey 7.2 in 2026: eol=%v known=%v, want false true", eol, known)
	}
	if eol, known := EndOfLife(redisinfo.FlavorRedis, ver(t, "7.0.15")); !eol || !known {
		t.Errorf("Redis 7.0: eol=%v known=%v, want true true", eol, known)
	}
}
