package vuln

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// goodTable is the smallest valid table document: the rejection tests
// below each break one thing in it.
const goodTable = `{
  "as_of": "2026-01-01",
  "scope": "test",
  "vulnerabilities": [
    {"id": "CVE-2000-0001", "title": "t", "cvss": 7.5, "cvss_version": "3.1", "severity": "high",
     "advisory": "https://example.com/a", "sources": ["https://example.com/a", "https://example.com/notes"],
     "verified": true,
     "affected": {"redis": {"fixed": {"6.2": "6.2.5"}}}}
  ],
  "end_of_life": {"flavors": {"redis": {"eol_below": "6.2",
    "eol_below_source": "https://example.com/p", "branches": {
    "7.0": {"eol": true, "source": "https://example.com/e", "note": "n"}}}}}
}`

func TestParseAcceptsTheGoodTable(t *testing.T) {
	tbl, err := Parse([]byte(goodTable))
	if err != nil {
		t.Fatal(err)
	}
	if tbl.AsOf() != "2026-01-01" || tbl.AsOfTime().Unix() != 1767225600 || tbl.Len() != 1 {
		t.Errorf("as_of %q (%d), %d rows", tbl.AsOf(), tbl.AsOfTime().Unix(), tbl.Len())
	}
	if got := ids(tbl.Match(redisinfo.FlavorRedis, ver(t, "6.2.4"))); len(got) != 1 || got[0] != "CVE-2000-0001" {
		t.Errorf("6.2.4: %v", got)
	}
	if eol, known := tbl.EndOfLife(redisinfo.FlavorRedis, ver(t, "7.0.15")); !eol || !known {
		t.Errorf("7.0 from the file's end_of_life: eol=%v known=%v", eol, known)
	}
	all := tbl.All()
	if len(all[0].Sources) != 2 || all[0].Advisory != "https://example.com/a" {
		t.Errorf("row: %+v", all[0])
	}
	all[0].Sources[0] = "changed"
	if tbl.All()[0].Sources[0] == "changed" {
		t.Error("All returns the table's own sources slice")
	}
}

// TestParseRejects: each bad document is refused with an error that says
// what is wrong (and, for rows, which row).
func TestParseRejects(t *testing.T) {
	edit := func(old, new string) string {
		t.Helper()
		if strings.Count(goodTable, old) != 1 {
			t.Fatalf("%q is not once in the good table", old)
		}
		return strings.Replace(goodTable, old, new, 1)
	}
	row := `{"id": "CVE-2000-0001", "title": "t", "cvss": 7.5, "cvss_version": "3.1", "severity": "high",
     "advisory": "https://example.com/a", "sources": ["https://example.com/a", "https://example.com/notes"],
     "verified": true,
     "affected": {"redis": {"fixed": {"6.2": "6.2.5"}}}}`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not JSON", "vulnerabilities: []", "line 1, column 1: invalid character"},
		{"syntax error on a later line", edit(`"scope": "test",`, `"scope": "test",,`), "line 3, column"},
		{"wrong type", edit(`"cvss": 7.5`, `"cvss": "7.5"`), "line 5, column 56: json: cannot unmarshal string"},
		{"empty file", "", "EOF"},
		{"trailing data", goodTable + "[]", "trailing data"},
		{"unknown top field", edit(`"scope"`, `"color": 1, "scope"`), `unknown field "color"`},
		{"unknown row field", edit(`"title": "t"`, `"title": "t", "fixed_in": "6.2.5"`), `unknown field "fixed_in"`},
		{"old source field", edit(`"advisory": "https://example.com/a"`, `"source": "https://example.com/a"`), `unknown field "source"`},
		{"missing as_of", edit(`"as_of": "2026-01-01",`, ""), `as_of: date ""`},
		{"bad as_of", edit(`"2026-01-01"`, `"1 January 2026"`), "as_of: date"},
		{"impossible as_of", edit(`"2026-01-01"`, `"2026-02-30"`), "as_of"},
		{"no rows", edit(row, ""), "vulnerabilities: none listed"},
		{"duplicate id", edit(row, row+","+row), "vulnerabilities[1]: duplicate id CVE-2000-0001 (also vulnerabilities[0])"},
		{"not a CVE id", edit("CVE-2000-0001", "GHSA-xxxx-yyyy"), `vulnerabilities[0] (GHSA-xxxx-yyyy): id "GHSA-xxxx-yyyy" is not a CVE id`},
		{"mistyped CVE id", edit("CVE-2000-0001", "CVE-2000-001"), "is not a CVE id"},
		{"two-line title", edit(`"title": "t"`, `"title": "a\nb"`), "title must be one non-empty line"},
		{"unknown severity", edit(`"high"`, `"severe"`), `unknown severity "severe"`},
		{"severity vs cvss", edit(`"high"`, `"medium"`), "severity medium does not match cvss 7.5 (high)"},
		{"cvss out of range", edit("7.5", "11"), "cvss 11 out of range"},
		{"cvss version", edit(`"3.1"`, `"2.0"`), `cvss_version "2.0"`},
		{"http advisory", edit(`"advisory": "https://example.com/a"`, `"advisory": "http://example.com/a"`), "advisory:"},
		{"no advisory", edit(`"advisory": "https://example.com/a", `, ""), "advisory:"},
		{"no sources", edit(`"sources": ["https://example.com/a", "https://example.com/notes"],`, ""), "sources: none listed"},
		{"empty sources", edit(`["https://example.com/a", "https://example.com/notes"]`, "[]"), "sources: none listed"},
		{"source not a URL", edit(`"https://example.com/notes"`, `"see the release notes"`), "sources[1]:"},
		{"source twice", edit(`"https://example.com/notes"`, `"https://example.com/a"`), "sources[1]: https://example.com/a listed twice"},
		{"verified missing", edit(`"verified": true,`, ""), "verified: missing"},
		{"unverified without a reason", edit(`"verified": true`, `"verified": false`), "note: an unverified row must say"},
		{"unverified, blank reason", edit(`"verified": true`, `"verified": false, "note": "  "`), "note: an unverified row must say"},
		{"no flavor", edit(`{"redis": {"fixed": {"6.2": "6.2.5"}}}`, `{}`), "affected lists no flavor"},
		{"unknown flavor", edit(`"affected": {"redis"`, `"affected": {"keydb"`), `unknown flavor "keydb"`},
		{"no branch", edit(`{"fixed": {"6.2": "6.2.5"}}`, `{"older_unfixed": true}`), "no fixed or unfixed branch"},
		{"fixed not a version", edit(`"6.2.5"`, `"6.2"`), `redis: fixed 6.2: version "6.2": want MAJOR.MINOR.PATCH`},
		{"fixed with suffix", edit(`"6.2.5"`, `"6.2.5-rc1"`), `version "6.2.5-rc1"`},
		{"fixed off its branch", edit(`"6.2.5"`, `"7.0.5"`), "version 7.0.5 is not on branch 6.2"},
		{"bad branch", edit(`{"6.2": "6.2.5"}`, `{"6": "6.2.5"}`), `branch "6": want MAJOR.MINOR`},
		{"unfixed twice", edit(`{"6.2": "6.2.5"}}`, `{"6.2": "6.2.5"}, "unfixed": ["6.2"]}`), "branch 6.2 listed twice"},
		{"unfixed before introduced", edit(`{"6.2": "6.2.5"}}`, `{"6.2": "6.2.5"}, "introduced": "6.2.0", "unfixed": ["6.0"]}`), "older than introduced"},
		{"fixed before introduced", edit(`{"6.2": "6.2.5"}}`, `{"6.2": "6.2.5"}, "introduced": "6.2.5"}`), "not newer than introduced"},
		{"older_unfixed no-op", edit(`{"6.2": "6.2.5"}}`, `{"6.2": "6.2.5"}, "introduced": "6.2.0", "older_unfixed": true}`), "older_unfixed covers no branch"},
		{"newer_fixed_in older", edit(`{"6.2": "6.2.5"}}`, `{"6.2": "6.2.5"}, "newer_fixed_in": "6.2.9"}`), "not on a branch newer than 6.2"},
		{"no end_of_life", edit(`,
  "end_of_life": {"flavors": {"redis": {"eol_below": "6.2",
    "eol_below_source": "https://example.com/p", "branches": {
    "7.0": {"eol": true, "source": "https://example.com/e", "note": "n"}}}}}`, ""), "end_of_life: missing"},
		{"end_of_life without flavors", edit(`{"flavors": {"redis"`, `{"flavors": {}, "x": {"redis"`), `unknown field "x"`},
		{"eol unknown flavor", edit(`{"flavors": {"redis"`, `{"flavors": {"keydb"`), `end_of_life: unknown flavor "keydb"`},
		{"eol bad branch", edit(`"7.0": {"eol"`, `"7": {"eol"`), `end_of_life: redis branches: branch "7"`},
		{"eol missing", edit(`"eol": true, `, ""), "end_of_life: redis 7.0: eol must be given"},
		{"eol no note", edit(`, "note": "n"`, ""), "note must say what the status rests on"},
		{"eol no source", edit(`"source": "https://example.com/e", `, ""), "end_of_life: redis 7.0: source:"},
		{"eol_from when eol", edit(`"eol": true,`, `"eol": true, "eol_from": "2027-01-01",`), "eol_from on a branch that is already eol"},
		{"bad eol_from", edit(`"eol": true,`, `"eol": false, "eol_from": "soon",`), `eol_from: date "soon"`},
		{"bad known_until", edit(`"eol": true,`, `"eol": false, "known_until": "2027",`), `known_until: date "2027"`},
		{"below eol_below yet alive", edit(`"7.0": {`, `"6.0": {"eol": false, "source": "https://example.com/b", "note": "n"}, "7.0": {`), "below eol_below 6.2 but not eol"},
		{"eol_below without source", edit(`"eol_below_source": "https://example.com/p", `, ""), "eol_below_source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(goodTable), 0o600); err != nil {
		t.Fatal(err)
	}
	tbl, err := Load(good)
	if err != nil || tbl.Len() != 1 {
		t.Fatalf("Load(good) = %v, %v", tbl, err)
	}
	// The embedded file loads as a file too: an operator's starting point.
	if tbl, err := Load("vulnerabilities.json"); err != nil || tbl.Len() != Embedded().Len() {
		t.Fatalf("Load(vulnerabilities.json) = %v, %v", tbl, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(goodTable, `"6.2.5"`, `"6.2"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{bad, bad + `: vulnerabilities[0] (CVE-2000-0001): redis: fixed 6.2: version "6.2": want MAJOR.MINOR.PATCH`},
		{filepath.Join(dir, "missing.json"), "missing.json: no such file or directory"},
		{dir, dir + ": not a regular file"},
	} {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) = %v, want an error with %q", tc.path, err, tc.want)
		}
	}
}

// FuzzParse: a table file is operator input; no document may crash the
// parser, and an accepted one must be usable.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodTable))
	f.Add(vulnerabilitiesJSON)
	f.Add([]byte(`{"as_of": "2026-01-01", "vulnerabilities": [], "end_of_life": {"flavors": {}}}`))
	f.Add([]byte(`{"as_of":"9999-99-99"}`))
	versions := []string{"0.0.0", "6.2.4", "7.2.4", "8.0.0", "99.99.99"}
	f.Fuzz(func(t *testing.T, b []byte) {
		tbl, err := Parse(b)
		if err != nil {
			if tbl != nil {
				t.Fatal("a table with an error")
			}
			return
		}
		if tbl.Len() == 0 || tbl.AsOfTime().IsZero() {
			t.Fatalf("accepted a table without rows or date: %d rows, %v", tbl.Len(), tbl.AsOfTime())
		}
		for _, v := range tbl.All() {
			if len(v.Sources) == 0 || (!v.Verified && strings.TrimSpace(v.Note) == "") {
				t.Fatalf("accepted %s without sources or reason", v.ID)
			}
		}
		for _, f := range []redisinfo.Flavor{redisinfo.FlavorRedis, redisinfo.FlavorValkey} {
			for _, s := range versions {
				v := ver(t, s)
				tbl.Match(f, v)
				tbl.EndOfLife(f, v)
			}
		}
	})
}
