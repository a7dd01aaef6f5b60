package vuln

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

func ver(t testing.TB, s string) redisinfo.Version {
	t.Helper()
	v, err := redisinfo.ParseVersion(s)
	if err != nil {
		t.Fatalf("ParseVersion(%q): %v", s, err)
	}
	return v
}

func ids(vs []Vulnerability) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

// The expected sets below are derived by hand from vulnerabilities.json (see
// the comment on each line), not computed by the matching code.
var sampleWant = map[string]struct {
	flavor  redisinfo.Flavor
	version string
	want    []string
}{
	// 6.2.16 has the 2024-10 fixes; later 6.2 fixes: 6.2.17 (46981),
	// 6.2.18 (21605), 6.2.19 (32023, 48367), 6.2.20 (the four Lua CVEs).
	// 31227/51741 start at 7.0, 41056 at 7.0.9, 62507 at 8.2. The May 2026
	// wave is fixed in 6.2.22, except 23631 that starts at 7.0; 66373 in
	// 6.2.23, 81934 in 6.2.24.
	"redis-6.2": {redisinfo.FlavorRedis, "6.2.16", []string{
		"CVE-2024-46981", "CVE-2025-21605", "CVE-2025-32023", "CVE-2025-46817",
		"CVE-2025-46818", "CVE-2025-46819", "CVE-2025-48367", "CVE-2025-49844",
		"CVE-2026-23479", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589",
		"CVE-2026-66373", "CVE-2026-81934",
	}},
	// 7.0.15 is the last 7.0: it has 41056 (7.0.15), 45145 (7.0.14), 41053
	// (7.0.13), 24834 and 36824 (7.0.12) and the older 2022-2023 7.0 fixes
	// (7.0.4 to 7.0.11); everything from the 2024-10 wave on lists 7.0 as
	// unfixed.
	"redis-7.0": {redisinfo.FlavorRedis, "7.0.15", []string{
		"CVE-2024-31227", "CVE-2024-31228", "CVE-2024-31449", "CVE-2024-46981",
		"CVE-2024-51741", "CVE-2025-21605", "CVE-2025-32023", "CVE-2025-46817",
		"CVE-2025-46818", "CVE-2025-46819", "CVE-2025-48367", "CVE-2025-49844",
		"CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589",
		"CVE-2026-66373", "CVE-2026-81934",
	}},
	// 7.2.6 fixes the 2024-10 wave; 7.2.7 (46981, 51741), 7.2.8 (21605),
	// 7.2.10 (32023, 48367), 7.2.11 (Lua wave), 7.2.14 (May 2026), 7.2.15
	// (66373), 7.2.16 (81934) are later.
	"redis-7.2": {redisinfo.FlavorRedis, "7.2.6", []string{
		"CVE-2024-46981", "CVE-2024-51741", "CVE-2025-21605", "CVE-2025-32023",
		"CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819", "CVE-2025-48367",
		"CVE-2025-49844", "CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589",
		"CVE-2026-66373", "CVE-2026-81934",
	}},
	// 7.4.1 fixes the 2024-10 wave; 7.4.2, 7.4.3, 7.4.5, 7.4.6, 7.4.9, 7.4.10
	// (66373), 7.4.11 (81934) are later.
	"redis-7.4": {redisinfo.FlavorRedis, "7.4.1", []string{
		"CVE-2024-46981", "CVE-2024-51741", "CVE-2025-21605", "CVE-2025-32023",
		"CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819", "CVE-2025-48367",
		"CVE-2025-49844", "CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589",
		"CVE-2026-66373", "CVE-2026-81934",
	}},
	// 8.0.0 GA fixed 21605 and 8.0 shipped after the 2025-01 wave; 8.0.3
	// (32023, 48367) and 8.0.4 (Lua wave) are later; 8.0 never got the May
	// 2026 fixes, nor those of July (66373) and August (81934).
	"redis-8.0": {redisinfo.FlavorRedis, "8.0.2", []string{
		"CVE-2025-32023", "CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819",
		"CVE-2025-48367", "CVE-2025-49844", "CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589",
		"CVE-2026-66373", "CVE-2026-81934",
	}},
	// Valkey 8.0.1 fixes the 2024-10 wave; Valkey 8.0.2 (46981, 51741),
	// 8.0.3 (21605), 8.0.4 (32023, 48367), 8.0.6 (Lua wave), 8.0.7 (67733,
	// 21863), 8.0.9 (the May 2026 wave: 23479, 23631, 25243; 8.0.8 was
	// revoked), 8.0.10 (56684, 63639), 8.0.12 (136156), 8.0.13 (130822) are
	// later. (Sorted as strings: 130822 and 136156 before 21863.)
	"valkey-8.0": {redisinfo.FlavorValkey, "8.0.1", []string{
		"CVE-2024-46981", "CVE-2024-51741", "CVE-2025-21605", "CVE-2025-32023",
		"CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819", "CVE-2025-48367",
		"CVE-2025-49844", "CVE-2025-67733", "CVE-2026-130822", "CVE-2026-136156",
		"CVE-2026-21863", "CVE-2026-23479",
		"CVE-2026-23631", "CVE-2026-25243", "CVE-2026-56684", "CVE-2026-63639",
	}},
}

func TestMatchIssueVersions(t *testing.T) {
	for name, tc := range sampleWant {
		t.Run(name, func(t *testing.T) {
			got := ids(Match(tc.flavor, ver(t, tc.version)))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Match(%s, %s)\n got %v\nwant %v", tc.flavor, tc.version, got, tc.want)
			}
		})
	}
}

// TestMatchSampleInfo matches the servers the samples were recorded from,
// identified from their INFO reply as the collectors will do it.
func TestMatchSampleInfo(t *testing.T) {
	for _, name := range []string{"redis-6.2", "redis-7.0", "redis-7.2", "redis-7.4", "valkey-8.0"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../../testdata/samples", name, "info_all.resp"))
			if err != nil {
				t.Fatal(err)
			}
			// The RESP bulk header line has no colon; Parse skips it.
			srv, err := redisinfo.Parse(string(b)).Server()
			if err != nil {
				t.Fatal(err)
			}
			tc := sampleWant[name]
			if srv.Flavor != tc.flavor || srv.Version.String() != tc.version {
				t.Fatalf("sample is %s %s, want %s %s", srv.Flavor, srv.Version, tc.flavor, tc.version)
			}
			if got := ids(MatchServer(srv)); !slices.Equal(got, tc.want) {
				t.Errorf("MatchServer\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// Valkey reports redis_version:7.2.4. Matching it as Redis 7.2.4 would add
// the 2024-10 wave that Valkey 8.0.1 fixes.
func TestValkeyMatchedOnOwnVersion(t *testing.T) {
	srv := redisinfo.Server{Flavor: redisinfo.FlavorValkey, Version: ver(t, "8.0.1"), CompatVersion: ver(t, "7.2.4")}
	got := ids(MatchServer(srv))
	if !slices.Equal(got, sampleWant["valkey-8.0"].want) {
		t.Errorf("MatchServer(valkey 8.0.1) = %v", got)
	}
	for _, id := range []string{"CVE-2024-31449", "CVE-2024-31227", "CVE-2024-31228"} {
		if slices.Contains(got, id) {
			t.Errorf("Valkey 8.0.1 reported %s, fixed in Valkey 8.0.1", id)
		}
	}
	asRedis := ids(Match(redisinfo.FlavorRedis, srv.CompatVersion))
	if !slices.Contains(asRedis, "CVE-2024-31449") {
		t.Fatalf("Redis 7.2.4 should have CVE-2024-31449 (fixed 7.2.6): %v", asRedis)
	}
	// Redis-only rows never match Valkey: 41056 was fixed in Redis 7.2.4,
	// which Valkey forked from; XACKDEL does not exist in Valkey.
	for _, v := range []string{"7.2.4", "7.2.5", "8.0.0", "8.1.0", "9.0.0"} {
		for _, vu := range Match(redisinfo.FlavorValkey, ver(t, v)) {
			if vu.ID == "CVE-2023-41056" || vu.ID == "CVE-2025-62507" || strings.HasPrefix(vu.ID, "CVE-2021-") || strings.HasPrefix(vu.ID, "CVE-2022-") {
				t.Errorf("Valkey %s matched Redis-only %s", v, vu.ID)
			}
		}
	}
}

func TestMatchBoundaries(t *testing.T) {
	for _, tc := range []struct {
		flavor  redisinfo.Flavor
		version string
		cve     string
		want    bool
		fixedIn string // FixedIn when want
	}{
		// Exactly the fixed version is not affected; one patch below is.
		{redisinfo.FlavorRedis, "6.2.15", "CVE-2024-31449", true, "6.2.16"},
		{redisinfo.FlavorRedis, "6.2.16", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorRedis, "7.2.5", "CVE-2024-31449", true, "7.2.6"},
		{redisinfo.FlavorRedis, "7.2.6", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorRedis, "7.4.0", "CVE-2024-31449", true, "7.4.1"},
		{redisinfo.FlavorRedis, "7.4.1", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorRedis, "7.0.14", "CVE-2023-41056", true, "7.0.15"},
		{redisinfo.FlavorRedis, "7.0.15", "CVE-2023-41056", false, ""},
		{redisinfo.FlavorRedis, "8.2.2", "CVE-2025-62507", true, "8.2.3"},
		{redisinfo.FlavorRedis, "8.2.3", "CVE-2025-62507", false, ""},
		{redisinfo.FlavorRedis, "5.0.13", "CVE-2021-32626", true, "5.0.14"},
		{redisinfo.FlavorRedis, "5.0.14", "CVE-2021-32626", false, ""},
		{redisinfo.FlavorRedis, "6.2.6", "CVE-2022-24735", true, "6.2.7"},
		{redisinfo.FlavorRedis, "7.0.0", "CVE-2022-24735", false, ""},
		{redisinfo.FlavorValkey, "8.0.0", "CVE-2024-31449", true, "8.0.1"},
		{redisinfo.FlavorValkey, "8.0.1", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorValkey, "7.2.6", "CVE-2024-31449", true, "7.2.7"},
		{redisinfo.FlavorValkey, "7.2.7", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorValkey, "8.1.3", "CVE-2025-49844", true, "8.1.4"},
		{redisinfo.FlavorValkey, "8.1.4", "CVE-2025-49844", false, ""},
		{redisinfo.FlavorValkey, "8.1.0", "CVE-2025-21605", true, "8.1.1"},
		{redisinfo.FlavorRedis, "7.0.3", "CVE-2022-31144", true, "7.0.4"},
		{redisinfo.FlavorRedis, "7.0.4", "CVE-2022-31144", false, ""},
		{redisinfo.FlavorRedis, "6.0.16", "CVE-2022-35977", true, "6.0.17"},
		{redisinfo.FlavorRedis, "6.0.17", "CVE-2022-35977", false, ""},
		{redisinfo.FlavorRedis, "6.2.10", "CVE-2023-25155", true, "6.2.11"},
		{redisinfo.FlavorRedis, "6.2.11", "CVE-2023-25155", false, ""},
		{redisinfo.FlavorRedis, "7.0.10", "CVE-2023-28856", true, "7.0.11"},
		{redisinfo.FlavorRedis, "7.0.11", "CVE-2023-28856", false, ""},
		{redisinfo.FlavorRedis, "7.2.0", "CVE-2023-41053", true, "7.2.1"},
		{redisinfo.FlavorRedis, "7.2.1", "CVE-2023-41053", false, ""},
		{redisinfo.FlavorRedis, "7.0.12", "CVE-2023-41053", true, "7.0.13"},
		// Debian's 7.0.15 (tested live): every 7.0 fix of 2022-2023 is older.
		{redisinfo.FlavorRedis, "7.0.15", "CVE-2023-36824", false, ""},
		{redisinfo.FlavorRedis, "7.0.15", "CVE-2023-41053", false, ""},
		// Before introduced: not affected.
		{redisinfo.FlavorRedis, "7.0.8", "CVE-2023-41056", false, ""},
		{redisinfo.FlavorRedis, "7.0.9", "CVE-2023-41056", true, "7.0.15"},
		{redisinfo.FlavorRedis, "8.1.0", "CVE-2025-62507", false, ""},
		{redisinfo.FlavorRedis, "6.2.0", "CVE-2024-51741", false, ""},
		{redisinfo.FlavorRedis, "4.0.14", "CVE-2021-32627", false, ""},
		{redisinfo.FlavorRedis, "2.4.0", "CVE-2021-32626", false, ""},
		{redisinfo.FlavorRedis, "6.0.16", "CVE-2023-22458", false, ""}, // 6.2 commands
		{redisinfo.FlavorRedis, "6.2.8", "CVE-2023-22458", true, "6.2.9"},
		{redisinfo.FlavorRedis, "7.0.7", "CVE-2023-28425", false, ""},
		{redisinfo.FlavorRedis, "7.0.8", "CVE-2023-28425", true, "7.0.10"},
		{redisinfo.FlavorRedis, "6.2.14", "CVE-2023-36824", false, ""}, // 7.0 only
		// An end-of-life branch listed as unfixed: every patch is affected
		// and there is no fix on the branch.
		{redisinfo.FlavorRedis, "6.0.0", "CVE-2022-24735", true, ""},
		{redisinfo.FlavorRedis, "6.0.20", "CVE-2022-24735", true, ""},
		{redisinfo.FlavorRedis, "6.0.20", "CVE-2023-45145", true, ""},
		{redisinfo.FlavorRedis, "7.0.99", "CVE-2025-49844", true, ""},
		// Branches older than every listed one, when the row says so.
		{redisinfo.FlavorRedis, "6.0.20", "CVE-2024-31449", true, ""},
		{redisinfo.FlavorRedis, "4.0.14", "CVE-2021-32626", true, ""},
		{redisinfo.FlavorRedis, "3.2.0", "CVE-2021-32672", true, ""},
		{redisinfo.FlavorRedis, "5.0.14", "CVE-2023-28856", true, ""},
		{redisinfo.FlavorRedis, "5.0.14", "CVE-2022-36021", true, ""},
		// A branch newer than the row's branches, released after the fix.
		{redisinfo.FlavorRedis, "7.2.0", "CVE-2022-24834", false, ""},
		{redisinfo.FlavorRedis, "7.2.0", "CVE-2023-36824", false, ""},
		{redisinfo.FlavorRedis, "7.2.0", "CVE-2022-31144", false, ""},
		{redisinfo.FlavorValkey, "7.2.5", "CVE-2023-41053", false, ""},
		{redisinfo.FlavorRedis, "8.0.0", "CVE-2024-31449", false, ""},
		{redisinfo.FlavorRedis, "8.2.0", "CVE-2025-32023", false, ""},
		{redisinfo.FlavorValkey, "8.1.0", "CVE-2024-46981", false, ""},
		{redisinfo.FlavorValkey, "9.0.0", "CVE-2025-49844", false, ""},
		// A fix in the GA of a branch: the branch is not affected.
		{redisinfo.FlavorRedis, "8.0.0", "CVE-2025-21605", false, ""},
		// The February 2026 Valkey advisories, per branch (CVE records;
		// 9.0.3, not the records' 9.0.2, from the 9.0.3 release notes).
		{redisinfo.FlavorValkey, "7.2.11", "CVE-2025-67733", true, "7.2.12"},
		{redisinfo.FlavorValkey, "7.2.12", "CVE-2025-67733", false, ""},
		{redisinfo.FlavorValkey, "8.0.6", "CVE-2025-67733", true, "8.0.7"},
		{redisinfo.FlavorValkey, "8.0.7", "CVE-2025-67733", false, ""},
		{redisinfo.FlavorValkey, "8.1.5", "CVE-2025-67733", true, "8.1.6"},
		{redisinfo.FlavorValkey, "8.1.6", "CVE-2025-67733", false, ""},
		{redisinfo.FlavorValkey, "9.0.2", "CVE-2025-67733", true, "9.0.3"},
		{redisinfo.FlavorValkey, "9.0.3", "CVE-2025-67733", false, ""},
		{redisinfo.FlavorValkey, "7.2.11", "CVE-2026-21863", true, "7.2.12"},
		{redisinfo.FlavorValkey, "7.2.12", "CVE-2026-21863", false, ""},
		{redisinfo.FlavorValkey, "8.0.6", "CVE-2026-21863", true, "8.0.7"},
		{redisinfo.FlavorValkey, "8.0.7", "CVE-2026-21863", false, ""},
		{redisinfo.FlavorValkey, "8.1.5", "CVE-2026-21863", true, "8.1.6"},
		{redisinfo.FlavorValkey, "8.1.6", "CVE-2026-21863", false, ""},
		{redisinfo.FlavorValkey, "9.0.2", "CVE-2026-21863", true, "9.0.3"},
		{redisinfo.FlavorValkey, "9.0.3", "CVE-2026-21863", false, ""},
		{redisinfo.FlavorValkey, "9.1.0", "CVE-2026-21863", false, ""}, // 9.1 GA after the fix
		// Redis's July and August 2026 fixes (66373, 81934), per branch.
		{redisinfo.FlavorRedis, "6.2.22", "CVE-2026-66373", true, "6.2.23"},
		{redisinfo.FlavorRedis, "6.2.23", "CVE-2026-66373", false, ""},
		{redisinfo.FlavorRedis, "8.6.4", "CVE-2026-66373", true, "8.6.5"},
		{redisinfo.FlavorRedis, "8.6.5", "CVE-2026-66373", false, ""},
		{redisinfo.FlavorRedis, "8.8.0", "CVE-2026-66373", false, ""}, // the record: before 8.8.0
		{redisinfo.FlavorRedis, "8.0.6", "CVE-2026-66373", true, ""},  // end of life, unfixed
		{redisinfo.FlavorRedis, "7.4.10", "CVE-2026-81934", true, "7.4.11"},
		{redisinfo.FlavorRedis, "7.4.11", "CVE-2026-81934", false, ""},
		{redisinfo.FlavorRedis, "8.8.1", "CVE-2026-81934", true, "8.8.2"},
		{redisinfo.FlavorRedis, "8.8.2", "CVE-2026-81934", false, ""},
		{redisinfo.FlavorRedis, "8.10.0", "CVE-2026-81934", true, "8.10.1"},
		{redisinfo.FlavorRedis, "8.10.1", "CVE-2026-81934", false, ""},
		{redisinfo.FlavorRedis, "6.0.20", "CVE-2026-81934", true, ""},  // older than every fixed branch
		{redisinfo.FlavorRedis, "5.0.14", "CVE-2026-81934", false, ""}, // no TLS before 6.0
		{redisinfo.FlavorRedis, "7.2.15", "CVE-2026-81934", true, "7.2.16"},
		{redisinfo.FlavorRedis, "7.2.16", "CVE-2026-81934", false, ""}, // the CNA's advisory; its release pull request's description left it out
		{redisinfo.FlavorRedis, "7.0.15", "CVE-2026-81934", true, ""},  // end of life: no fix
		{redisinfo.FlavorRedis, "6.2.24", "CVE-2026-81934", false, ""},
		{redisinfo.FlavorValkey, "8.0.4", "CVE-2026-81934", false, ""}, // Redis's row only
		// Valkey's October and November 2026 fixes (136156, 130822).
		{redisinfo.FlavorValkey, "9.1.2", "CVE-2026-136156", true, "9.1.3"},
		{redisinfo.FlavorValkey, "9.1.3", "CVE-2026-136156", false, ""},
		{redisinfo.FlavorValkey, "8.1.10", "CVE-2026-136156", true, "8.1.11"},
		{redisinfo.FlavorValkey, "8.1.11", "CVE-2026-136156", false, ""},
		{redisinfo.FlavorValkey, "9.1.3", "CVE-2026-130822", true, "9.1.4"},
		{redisinfo.FlavorValkey, "9.1.4", "CVE-2026-130822", false, ""},
		{redisinfo.FlavorValkey, "7.2.15", "CVE-2026-130822", true, "7.2.16"},
		{redisinfo.FlavorValkey, "7.2.16", "CVE-2026-130822", false, ""},
		{redisinfo.FlavorRedis, "7.2.15", "CVE-2026-130822", false, ""}, // Valkey's row only
		// The July 2026 Valkey advisories, per branch (CVE records).
		{redisinfo.FlavorValkey, "7.2.13", "CVE-2026-56684", true, "7.2.14"},
		{redisinfo.FlavorValkey, "7.2.14", "CVE-2026-56684", false, ""},
		{redisinfo.FlavorValkey, "8.0.9", "CVE-2026-56684", true, "8.0.10"},
		{redisinfo.FlavorValkey, "8.0.10", "CVE-2026-56684", false, ""},
		{redisinfo.FlavorValkey, "8.1.8", "CVE-2026-56684", true, "8.1.9"},
		{redisinfo.FlavorValkey, "8.1.9", "CVE-2026-56684", false, ""},
		{redisinfo.FlavorValkey, "9.0.4", "CVE-2026-56684", true, "9.0.5"},
		{redisinfo.FlavorValkey, "9.0.5", "CVE-2026-56684", false, ""},
		{redisinfo.FlavorValkey, "9.1.0", "CVE-2026-56684", true, "9.1.1"},
		{redisinfo.FlavorValkey, "9.1.1", "CVE-2026-56684", false, ""},
		{redisinfo.FlavorValkey, "7.2.13", "CVE-2026-63639", true, "7.2.14"},
		{redisinfo.FlavorValkey, "7.2.14", "CVE-2026-63639", false, ""},
		{redisinfo.FlavorValkey, "8.0.9", "CVE-2026-63639", true, "8.0.10"},
		{redisinfo.FlavorValkey, "8.0.10", "CVE-2026-63639", false, ""},
		{redisinfo.FlavorValkey, "8.1.8", "CVE-2026-63639", true, "8.1.9"},
		{redisinfo.FlavorValkey, "8.1.9", "CVE-2026-63639", false, ""},
		{redisinfo.FlavorValkey, "9.0.4", "CVE-2026-63639", true, "9.0.5"},
		{redisinfo.FlavorValkey, "9.0.5", "CVE-2026-63639", false, ""},
		{redisinfo.FlavorValkey, "9.1.0", "CVE-2026-63639", true, "9.1.1"},
		{redisinfo.FlavorValkey, "9.1.1", "CVE-2026-63639", false, ""},
		// The May 2026 wave on Valkey: 7.2.13, 8.0.9 (8.0.8 was revoked
		// and is matched), 8.1.7 and 9.0.4 fix it; 9.1.0 GA shipped with
		// the fix.
		{redisinfo.FlavorValkey, "9.0.3", "CVE-2026-23479", true, "9.0.4"},
		{redisinfo.FlavorValkey, "9.0.4", "CVE-2026-23479", false, ""},
		{redisinfo.FlavorValkey, "9.1.0", "CVE-2026-23479", false, ""},
		{redisinfo.FlavorValkey, "8.1.6", "CVE-2026-23479", true, "8.1.7"},
		{redisinfo.FlavorValkey, "8.1.7", "CVE-2026-23479", false, ""},
		{redisinfo.FlavorValkey, "8.0.8", "CVE-2026-25243", true, "8.0.9"},
		{redisinfo.FlavorValkey, "8.0.9", "CVE-2026-25243", false, ""},
		{redisinfo.FlavorValkey, "7.2.12", "CVE-2026-23631", true, "7.2.13"},
		{redisinfo.FlavorValkey, "7.2.13", "CVE-2026-23631", false, ""},
		// Redis 6.2 for the May wave: Redis's advisory table (6.2.22), not
		// the CVE record's ">= 7.2.0"; -23631 starts at 7.0.0.
		{redisinfo.FlavorRedis, "6.2.21", "CVE-2026-23479", true, "6.2.22"},
		{redisinfo.FlavorRedis, "6.2.22", "CVE-2026-23479", false, ""},
		{redisinfo.FlavorRedis, "7.2.13", "CVE-2026-25243", true, "7.2.14"},
		{redisinfo.FlavorRedis, "7.2.14", "CVE-2026-25243", false, ""},
		{redisinfo.FlavorRedis, "7.4.8", "CVE-2026-23631", true, "7.4.9"},
		{redisinfo.FlavorRedis, "7.4.9", "CVE-2026-23631", false, ""},
	} {
		var hit *Vulnerability
		for _, vu := range Match(tc.flavor, ver(t, tc.version)) {
			if vu.ID == tc.cve {
				vu := vu
				hit = &vu
			}
		}
		switch {
		case (hit != nil) != tc.want:
			t.Errorf("%s %s: %s affected = %v, want %v", tc.flavor, tc.version, tc.cve, hit != nil, tc.want)
		case hit != nil && hit.FixedIn != tc.fixedIn:
			t.Errorf("%s %s: %s FixedIn = %q, want %q", tc.flavor, tc.version, tc.cve, hit.FixedIn, tc.fixedIn)
		}
	}
}

func TestMatchUnknownFutureVersions(t *testing.T) {
	for _, tc := range []struct {
		flavor  redisinfo.Flavor
		version string
	}{
		{redisinfo.FlavorRedis, "8.8.2"},  // 8.8's only row (81934) is fixed in 8.8.2
		{redisinfo.FlavorRedis, "8.10.1"}, // likewise 8.10.1
		{redisinfo.FlavorRedis, "8.12.0"},
		{redisinfo.FlavorRedis, "9.0.0"},
		{redisinfo.FlavorRedis, "10.2.3"},
		{redisinfo.FlavorValkey, "9.2.0"},
		{redisinfo.FlavorValkey, "10.0.0"},
		{"", "7.0.0"},
		{"keydb", "6.2.0"},
	} {
		if got := Match(tc.flavor, ver(t, tc.version)); len(got) != 0 {
			t.Errorf("Match(%q, %s) = %v, want none", tc.flavor, tc.version, ids(got))
		}
	}
}

func TestMatchResultIsACopy(t *testing.T) {
	got := Match(redisinfo.FlavorRedis, ver(t, "7.0.0"))
	if len(got) == 0 || len(got[0].Sources) == 0 {
		t.Fatal("want a match with references")
	}
	id, ref := got[0].ID, got[0].Sources[0]
	got[0].Sources[0] = "changed"
	again := Match(redisinfo.FlavorRedis, ver(t, "7.0.0"))
	if again[0].ID != id || again[0].Sources[0] != ref {
		t.Errorf("modifying a result changed the table")
	}
}

// TestMatchRules checks each matching rule on a synthetic table, including
// newer_fixed_in, which no real row uses today.
func TestMatchRules(t *testing.T) {
	tbl, err := parseTable([]byte(`{"as_of": "2026-01-01", "vulnerabilities": [
	  {"id": "CVE-2000-0001", "title": "listed branches, gap and newer", "cvss": 5, "cvss_version": "3.1",
	   "severity": "medium", "advisory": "https://example.com/a", "sources": ["https://example.com/a"], "verified": true,
	   "affected": {"redis": {"fixed": {"6.2": "6.2.5", "7.2": "7.2.3"}}}},
	  {"id": "CVE-2000-0002", "title": "later branches affected until a version", "cvss": 9.1, "cvss_version": "3.1",
	   "severity": "critical", "advisory": "https://example.com/b", "sources": ["https://example.com/b"], "verified": true,
	   "affected": {"valkey": {"introduced": "7.2.4", "fixed": {"7.2": "7.2.9"}, "newer_fixed_in": "8.1.2"}}},
	  {"id": "CVE-2000-0003", "title": "unfixed and older branches", "cvss": 2, "cvss_version": "3.1",
	   "severity": "low", "advisory": "https://example.com/c", "sources": ["https://example.com/c"], "verified": false, "note": "synthetic",
	   "affected": {"redis": {"introduced": "5.0.0", "fixed": {"7.0": "7.0.2"}, "unfixed": ["6.2"], "older_unfixed": true}}}
	], "end_of_life": {"flavors": {"redis": {"branches": {}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flavor  redisinfo.Flavor
		version string
		want    []string
	}{
		{redisinfo.FlavorRedis, "6.2.4", []string{"CVE-2000-0001", "CVE-2000-0003"}},
		{redisinfo.FlavorRedis, "6.2.5", []string{"CVE-2000-0003"}},
		{redisinfo.FlavorRedis, "7.0.1", []string{"CVE-2000-0003"}}, // 7.0 is a gap for 0001
		{redisinfo.FlavorRedis, "7.0.2", []string{}},
		{redisinfo.FlavorRedis, "7.2.2", []string{"CVE-2000-0001"}}, // newer than 0003's branches
		{redisinfo.FlavorRedis, "7.4.0", []string{}},
		{redisinfo.FlavorRedis, "6.0.9", []string{"CVE-2000-0003"}}, // older than 0001's oldest: not said
		{redisinfo.FlavorRedis, "5.0.0", []string{"CVE-2000-0003"}},
		{redisinfo.FlavorRedis, "4.0.9", []string{}}, // before introduced
		{redisinfo.FlavorValkey, "7.2.8", []string{"CVE-2000-0002"}},
		{redisinfo.FlavorValkey, "8.0.5", []string{"CVE-2000-0002"}},
		{redisinfo.FlavorValkey, "8.1.1", []string{"CVE-2000-0002"}},
		{redisinfo.FlavorValkey, "8.1.2", []string{}},
		{redisinfo.FlavorValkey, "9.0.0", []string{}},
		{redisinfo.FlavorValkey, "7.2.3", []string{}},
	} {
		if got := ids(tbl.match(tc.flavor, ver(t, tc.version))); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.flavor, tc.version, got, tc.want)
		}
	}
	for _, vu := range tbl.match(redisinfo.FlavorValkey, ver(t, "8.0.5")) {
		if vu.FixedIn != "8.1.2" {
			t.Errorf("newer_fixed_in match: FixedIn = %q, want 8.1.2", vu.FixedIn)
		}
	}
}

// TestMatch2026Waves: boundaries of the 2026 rows, by hand from
// vulnerabilities.json.
func TestMatch2026Waves(t *testing.T) {
	may := []string{"CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-25588", "CVE-2026-25589"}
	july := []string{"CVE-2026-56684", "CVE-2026-63639"}
	for _, tc := range []struct {
		flavor      redisinfo.Flavor
		version     string
		has, hasNot []string
	}{
		{redisinfo.FlavorRedis, "8.6.2", may, nil},
		{redisinfo.FlavorRedis, "8.6.3", nil, may},
		{redisinfo.FlavorRedis, "8.4.2", may, nil},
		{redisinfo.FlavorRedis, "8.4.3", nil, may},
		{redisinfo.FlavorRedis, "8.2.6", nil, may},
		{redisinfo.FlavorRedis, "7.4.8", may, nil},
		{redisinfo.FlavorRedis, "7.2.14", nil, may},
		{redisinfo.FlavorRedis, "6.2.21", []string{"CVE-2026-23479", "CVE-2026-25243"}, []string{"CVE-2026-23631"}},
		{redisinfo.FlavorRedis, "6.2.22", nil, may},
		{redisinfo.FlavorRedis, "8.0.6", may, nil}, // 8.0 is end of life, never fixed
		{redisinfo.FlavorRedis, "5.0.14", []string{"CVE-2026-23479"}, []string{"CVE-2026-23631"}},
		{redisinfo.FlavorRedis, "8.8.0", nil, may},
		// Redis is not matched on the Valkey-only advisories.
		{redisinfo.FlavorRedis, "7.2.4", nil, append([]string{"CVE-2025-67733", "CVE-2026-21863", "CVE-2026-27623"}, july...)},
		{redisinfo.FlavorValkey, "9.0.2", []string{"CVE-2026-27623", "CVE-2025-67733", "CVE-2026-21863", "CVE-2026-23479"}, nil},
		{redisinfo.FlavorValkey, "9.0.3", []string{"CVE-2026-23479"}, []string{"CVE-2026-27623", "CVE-2025-67733", "CVE-2026-21863"}},
		{redisinfo.FlavorValkey, "9.0.4", july, []string{"CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243"}},
		{redisinfo.FlavorValkey, "9.0.5", nil, july},
		{redisinfo.FlavorValkey, "9.1.0", july, may},
		{redisinfo.FlavorValkey, "9.1.1", nil, july},
		{redisinfo.FlavorValkey, "8.1.8", july, []string{"CVE-2026-27623", "CVE-2025-67733"}},
		{redisinfo.FlavorValkey, "8.1.9", nil, july},
		{redisinfo.FlavorValkey, "7.2.13", july, []string{"CVE-2026-21863"}},
		// Valkey has no time series or Bloom module in its core.
		{redisinfo.FlavorValkey, "9.0.0", nil, []string{"CVE-2026-25588", "CVE-2026-25589"}},
	} {
		got := ids(Match(tc.flavor, ver(t, tc.version)))
		for _, id := range tc.has {
			if !slices.Contains(got, id) {
				t.Errorf("%s %s: %s missing (got %v)", tc.flavor, tc.version, id, got)
			}
		}
		for _, id := range tc.hasNot {
			if slices.Contains(got, id) {
				t.Errorf("%s %s: %s reported", tc.flavor, tc.version, id)
			}
		}
	}
}

// TestCNAScores pins the score and CVSS version of the rows re-checked
// against their CVE records (GitHub CNA), so an edit that reverts to a
// third party's score fails.
func TestCNAScores(t *testing.T) {
	want := map[string]struct {
		cvss     float64
		version  string
		sev      Severity
		verified bool
	}{
		"CVE-2025-21605": {7.5, "3.1", SeverityHigh, false}, // Redis 7.2.8 not confirmed
		"CVE-2025-67733": {8.5, "3.1", SeverityHigh, true},  // not Red Hat's 7.1
		"CVE-2026-21863": {7.5, "3.1", SeverityHigh, true},
		"CVE-2026-23479": {7.7, "4.0", SeverityHigh, true},
		"CVE-2026-25243": {7.7, "4.0", SeverityHigh, true},
		"CVE-2026-23631": {6.1, "4.0", SeverityMedium, true},
		"CVE-2026-56684": {7.5, "3.1", SeverityHigh, true},
		"CVE-2026-63639": {8.8, "3.1", SeverityHigh, true},
	}
	seen := 0
	for _, v := range All() {
		w, ok := want[v.ID]
		if !ok {
			continue
		}
		seen++
		if v.CVSS != w.cvss || v.CVSSVersion != w.version || v.Severity != w.sev || v.Verified != w.verified {
			t.Errorf("%s: cvss %v v%s %s verified=%v, want %v v%s %s verified=%v",
				v.ID, v.CVSS, v.CVSSVersion, v.Severity, v.Verified, w.cvss, w.version, w.sev, w.verified)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d rows", seen, len(want))
	}
}
