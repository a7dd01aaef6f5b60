package vuln

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDataFile checks vulnerabilities.json on its own, decoded generically
// rather than through the loader: every row has a source URL, a known
// severity, fixed versions that parse, and a unique CVE id.
func TestDataFile(t *testing.T) {
	b, err := os.ReadFile("vulnerabilities.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vulnerabilities []map[string]any `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	versionRe := regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	seen := map[string]bool{}
	for i, row := range doc.Vulnerabilities {
		id, _ := row["id"].(string)
		if !strings.HasPrefix(id, "CVE-") {
			t.Errorf("row %d: id %q", i, id)
		}
		if seen[id] {
			t.Errorf("duplicate id %s", id)
		}
		seen[id] = true
		adv, _ := row["advisory"].(string)
		if u, err := url.Parse(adv); err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: advisory %q is not an https URL", id, adv)
		}
		// Every row says where its fixed-in versions come from.
		srcs, _ := row["sources"].([]any)
		if len(srcs) == 0 {
			t.Errorf("%s: no sources", id)
		}
		for _, s := range srcs {
			str, _ := s.(string)
			if u, err := url.Parse(str); err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("%s: source %v is not an https URL", id, s)
			}
		}
		// An unverified row says why.
		if v, _ := row["verified"].(bool); !v {
			if note, _ := row["note"].(string); len(strings.TrimSpace(note)) < 20 {
				t.Errorf("%s: unverified, and the note %q does not say why", id, note)
			}
		}
		if sev, _ := row["severity"].(string); !slices.Contains([]string{"critical", "high", "medium", "low"}, sev) {
			t.Errorf("%s: severity %q", id, sev)
		}
		if _, ok := row["verified"].(bool); !ok {
			t.Errorf("%s: verified is not a bool", id)
		}
		aff, _ := row["affected"].(map[string]any)
		if len(aff) == 0 {
			t.Errorf("%s: no affected flavor", id)
		}
		for flavor, a := range aff {
			fixed, _ := a.(map[string]any)["fixed"].(map[string]any)
			for br, fv := range fixed {
				s, _ := fv.(string)
				if !versionRe.MatchString(s) || !strings.HasPrefix(s, br+".") {
					t.Errorf("%s %s: fixed %s = %q does not parse as a version on that branch", id, flavor, br, s)
				}
			}
		}
	}
	if len(doc.Vulnerabilities) != len(All()) {
		t.Errorf("file has %d rows, the loaded table %d", len(doc.Vulnerabilities), len(All()))
	}
}

// TestTableCoversFactsWaves: every CVE of the "CVE waves" in
// ../shared/design/redis-facts.md is in the table, and CVE-2022-0543 (a
// Debian/Ubuntu packaging bug, found by a probe) is not.
func TestTableCoversFactsWaves(t *testing.T) {
	got := ids(All())
	for _, id := range []string{
		"CVE-2021-32675", "CVE-2022-24735", "CVE-2022-24736", "CVE-2022-24834",
		"CVE-2023-45145", "CVE-2023-41056", "CVE-2024-31449", "CVE-2024-31227",
		"CVE-2024-31228", "CVE-2024-46981", "CVE-2024-51741", "CVE-2025-21605",
		"CVE-2025-32023", "CVE-2025-48367", "CVE-2025-49844", "CVE-2025-46817",
		"CVE-2025-46818", "CVE-2025-46819",
		// The 2026 advisories (issue 14).
		"CVE-2025-67733", "CVE-2026-21863", "CVE-2026-27623", "CVE-2026-23479", "CVE-2026-25243",
		"CVE-2026-23631", "CVE-2026-25588", "CVE-2026-25589", "CVE-2026-56684", "CVE-2026-63639",
		// Added after redis-facts.md: Redis's July and August 2026 CVEs,
		// Valkey's of October and November 2026.
		"CVE-2026-66373", "CVE-2026-81934", "CVE-2026-136156", "CVE-2026-130822",
		// Not in redis-facts.md: the 2022-2023 GitHub-CNA CVEs fixed on
		// 6.0/6.2/7.0 (and 7.2.1), once a known gap of the table's scope.
		"CVE-2022-31144", "CVE-2022-35951", "CVE-2022-35977", "CVE-2022-36021",
		"CVE-2023-22458", "CVE-2023-25155", "CVE-2023-28425", "CVE-2023-28856",
		"CVE-2023-36824", "CVE-2023-41053",
	} {
		if !slices.Contains(got, id) {
			t.Errorf("%s missing", id)
		}
	}
	if slices.Contains(got, "CVE-2022-0543") {
		t.Error("CVE-2022-0543 is a packaging issue and must not be in the version table")
	}
	if !slices.IsSorted(got) {
		t.Errorf("All() not sorted by id: %v", got)
	}
	for _, v := range All() {
		if v.FixedIn != "" {
			t.Errorf("All(): %s has FixedIn %q", v.ID, v.FixedIn)
		}
	}
	if AsOf() != "2026-12-07" {
		t.Errorf("AsOf() = %q", AsOf())
	}
}
