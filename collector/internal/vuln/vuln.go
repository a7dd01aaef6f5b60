package vuln

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// Severity is the CVSS severity band of a vulnerability.
type Severity string

// Severities, from the CVSS base score.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// SeverityForScore maps a CVSS base score to its band: >= 9 critical, >= 7
// high, >= 4 medium, else low.
func SeverityForScore(score float64) Severity {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	default:
		return SeverityLow
	}
}

// Vulnerability is one row of the table.
type Vulnerability struct {
	ID          string // CVE id
	Title       string
	Severity    Severity
	CVSS        float64 // base score published by the CVE numbering authority
	CVSSVersion string  // "3.1", or "4.0" when no v3 score was published
	// Advisory is the project's security advisory (or the CVE record when
	// the project published none).
	Advisory string
	// Sources are the pages that state the fixed-in versions of the row:
	// the advisory, release notes of each branch.
	Sources []string
	// Verified is false when a fixed-in version in the row could not be
	// confirmed against an advisory or release notes; Note says which.
	Verified bool
	Note     string
	// FixedIn is set in Match results only: the first fixed version on the
	// matched version's branch, or "" when that branch never got a fix and
	// the remedy is a newer branch.
	FixedIn string
}

// branch is a release branch, major.minor.
type branch struct{ major, minor int }

func (b branch) String() string { return fmt.Sprintf("%d.%d", b.major, b.minor) }

func (b branch) less(o branch) bool {
	return b.major < o.major || (b.major == o.major && b.minor < o.minor)
}

func branchOf(v redisinfo.Version) branch { return branch{v.Major, v.Minor} }

// compare returns -1, 0 or 1 as a is older than, equal to or newer than b.
func compare(a, b redisinfo.Version) int {
	for _, d := range [...]int{a.Major - b.Major, a.Minor - b.Minor, a.Patch - b.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}

// affected is the parsed per-flavor part of a row.
type affected struct {
	introduced   *redisinfo.Version
	fixed        map[branch]redisinfo.Version
	unfixed      map[branch]bool
	olderUnfixed bool
	newerFixedIn *redisinfo.Version
	oldest       branch // oldest branch in fixed or unfixed
	newest       branch // newest branch in fixed or unfixed
}

// check reports whether v is affected and the fix on v's branch ("" if none).
func (a *affected) check(v redisinfo.Version) (bool, string) {
	if a.introduced != nil && compare(v, *a.introduced) < 0 {
		return false, ""
	}
	b := branchOf(v)
	if fix, ok := a.fixed[b]; ok {
		return compare(v, fix) < 0, fix.String()
	}
	if a.unfixed[b] {
		return true, ""
	}
	if b.less(a.oldest) {
		return a.olderUnfixed, ""
	}
	if a.newest.less(b) && a.newerFixedIn != nil {
		return compare(v, *a.newerFixedIn) < 0, a.newerFixedIn.String()
	}
	// A branch between listed ones that the row does not list, or a newer
	// branch released after the fix: not affected.
	return false, ""
}

type entry struct {
	Vulnerability
	affects map[redisinfo.Flavor]*affected
}

func (t *Table) match(flavor redisinfo.Flavor, v redisinfo.Version) []Vulnerability {
	var out []Vulnerability
	for i := range t.entries {
		a := t.entries[i].affects[flavor]
		if a == nil {
			continue
		}
		if hit, fix := a.check(v); hit {
			vu := t.entries[i].Vulnerability
			vu.Sources = append([]string(nil), vu.Sources...)
			vu.FixedIn = fix
			out = append(out, vu)
		}
	}
	return out
}

// ---- parsing and validation ----

type rawTable struct {
	AsOf            string    `json:"as_of"`
	Scope           string    `json:"scope"`
	Vulnerabilities []rawVuln `json:"vulnerabilities"`
	EndOfLife       *rawEOL   `json:"end_of_life"`
}

type rawVuln struct {
	ID          string                 `json:"id"`
	Title       string                 `json:"title"`
	CVSS        float64                `json:"cvss"`
	CVSSVersion string                 `json:"cvss_version"`
	Severity    Severity               `json:"severity"`
	Advisory    string                 `json:"advisory"`
	Sources     []string               `json:"sources"`
	Verified    *bool                  `json:"verified"`
	Note        string                 `json:"note"`
	Affected    map[string]rawAffected `json:"affected"`
}

type rawAffected struct {
	Introduced   string            `json:"introduced"`
	Fixed        map[string]string `json:"fixed"`
	Unfixed      []string          `json:"unfixed"`
	OlderUnfixed bool              `json:"older_unfixed"`
	NewerFixedIn string            `json:"newer_fixed_in"`
}

var (
	cveRe     = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	versionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	branchRe  = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	dateRe    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func parseStrictVersion(s string) (redisinfo.Version, error) {
	if !versionRe.MatchString(s) {
		return redisinfo.Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", s)
	}
	return redisinfo.ParseVersion(s)
}

func parseBranch(s string) (branch, error) {
	if !branchRe.MatchString(s) {
		return branch{}, fmt.Errorf("branch %q: want MAJOR.MINOR", s)
	}
	majS, minS, _ := strings.Cut(s, ".")
	maj, err1 := strconv.Atoi(majS)
	mnr, err2 := strconv.Atoi(minS)
	if err := errors.Join(err1, err2); err != nil {
		return branch{}, fmt.Errorf("branch %q: %w", s, err)
	}
	return branch{maj, mnr}, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an https URL", s)
	}
	return nil
}

func parseFlavor(s string) (redisinfo.Flavor, error) {
	switch f := redisinfo.Flavor(s); f {
	case redisinfo.FlavorRedis, redisinfo.FlavorValkey:
		return f, nil
	}
	return "", fmt.Errorf("unknown flavor %q", s)
}

func parseTable(b []byte) (*Table, error) {
	var raw rawTable
	if err := decodeStrict(b, &raw); err != nil {
		return nil, err
	}
	asOf, err := parseDate(raw.AsOf)
	if err != nil {
		return nil, fmt.Errorf("as_of: %w", err)
	}
	if len(raw.Vulnerabilities) == 0 {
		return nil, errors.New("vulnerabilities: none listed")
	}
	if raw.EndOfLife == nil {
		return nil, errors.New("end_of_life: missing (the table carries the support status of the branches too)")
	}
	t := &Table{asOf: raw.AsOf, asOfTime: asOf, scope: raw.Scope}
	if t.eol, err = parseEOL(*raw.EndOfLife); err != nil {
		return nil, fmt.Errorf("end_of_life: %w", err)
	}
	seen := map[string]int{}
	for i, rv := range raw.Vulnerabilities {
		e, err := parseEntry(rv)
		if err != nil {
			return nil, fmt.Errorf("vulnerabilities[%d] (%s): %w", i, rv.ID, err)
		}
		if j, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("vulnerabilities[%d]: duplicate id %s (also vulnerabilities[%d])", i, e.ID, j)
		}
		seen[e.ID] = i
		t.entries = append(t.entries, e)
	}
	sort.Slice(t.entries, func(i, j int) bool { return t.entries[i].ID < t.entries[j].ID })
	return t, nil
}

func parseEntry(rv rawVuln) (entry, error) {
	e := entry{affects: map[redisinfo.Flavor]*affected{}}
	if !cveRe.MatchString(rv.ID) {
		return e, fmt.Errorf("id %q is not a CVE id", rv.ID)
	}
	if rv.Title == "" || strings.ContainsAny(rv.Title, "\r\n") {
		return e, errors.New("title must be one non-empty line")
	}
	if rv.CVSS <= 0 || rv.CVSS > 10 {
		return e, fmt.Errorf("cvss %v out of range (0, 10]", rv.CVSS)
	}
	switch rv.CVSSVersion {
	case "3.0", "3.1", "4.0":
	default:
		return e, fmt.Errorf("cvss_version %q: want 3.0, 3.1 or 4.0", rv.CVSSVersion)
	}
	known := false
	for _, s := range Severities {
		known = known || rv.Severity == s
	}
	if !known {
		return e, fmt.Errorf("unknown severity %q", rv.Severity)
	}
	if want := SeverityForScore(rv.CVSS); rv.Severity != want {
		return e, fmt.Errorf("severity %s does not match cvss %v (%s)", rv.Severity, rv.CVSS, want)
	}
	if err := checkURL(rv.Advisory); err != nil {
		return e, fmt.Errorf("advisory: %w", err)
	}
	if len(rv.Sources) == 0 {
		return e, errors.New("sources: none listed (the pages that state the fixed-in versions)")
	}
	seenSrc := map[string]bool{}
	for i, r := range rv.Sources {
		if err := checkURL(r); err != nil {
			return e, fmt.Errorf("sources[%d]: %w", i, err)
		}
		if seenSrc[r] {
			return e, fmt.Errorf("sources[%d]: %s listed twice", i, r)
		}
		seenSrc[r] = true
	}
	if rv.Verified == nil {
		return e, errors.New("verified: missing (true or false)")
	}
	if !*rv.Verified && strings.TrimSpace(rv.Note) == "" {
		return e, errors.New("note: an unverified row must say what could not be verified")
	}
	if len(rv.Affected) == 0 {
		return e, errors.New("affected lists no flavor")
	}
	for name, ra := range rv.Affected {
		f, err := parseFlavor(name)
		if err != nil {
			return e, err
		}
		a, err := parseAffected(ra)
		if err != nil {
			return e, fmt.Errorf("%s: %w", name, err)
		}
		e.affects[f] = a
	}
	e.Vulnerability = Vulnerability{
		ID: rv.ID, Title: rv.Title, Severity: rv.Severity, CVSS: rv.CVSS,
		CVSSVersion: rv.CVSSVersion, Advisory: rv.Advisory, Sources: rv.Sources,
		Verified: *rv.Verified, Note: rv.Note,
	}
	return e, nil
}

func parseAffected(ra rawAffected) (*affected, error) {
	a := &affected{fixed: map[branch]redisinfo.Version{}, unfixed: map[branch]bool{}, olderUnfixed: ra.OlderUnfixed}
	if ra.Introduced != "" {
		v, err := parseStrictVersion(ra.Introduced)
		if err != nil {
			return nil, fmt.Errorf("introduced: %w", err)
		}
		a.introduced = &v
	}
	var listed []branch
	for bs, vs := range ra.Fixed {
		b, err := parseBranch(bs)
		if err != nil {
			return nil, fmt.Errorf("fixed: %w", err)
		}
		v, err := parseStrictVersion(vs)
		if err != nil {
			return nil, fmt.Errorf("fixed %s: %w", bs, err)
		}
		if branchOf(v) != b {
			return nil, fmt.Errorf("fixed %s: version %s is not on branch %s", bs, vs, bs)
		}
		if a.introduced != nil && compare(v, *a.introduced) <= 0 {
			return nil, fmt.Errorf("fixed %s: %s is not newer than introduced %s", bs, vs, ra.Introduced)
		}
		a.fixed[b] = v
		listed = append(listed, b)
	}
	for _, bs := range ra.Unfixed {
		b, err := parseBranch(bs)
		if err != nil {
			return nil, fmt.Errorf("unfixed: %w", err)
		}
		if _, dup := a.fixed[b]; dup || a.unfixed[b] {
			return nil, fmt.Errorf("unfixed: branch %s listed twice", bs)
		}
		if a.introduced != nil && b.less(branchOf(*a.introduced)) {
			return nil, fmt.Errorf("unfixed: branch %s is older than introduced %s", bs, ra.Introduced)
		}
		a.unfixed[b] = true
		listed = append(listed, b)
	}
	if len(listed) == 0 {
		return nil, errors.New("no fixed or unfixed branch")
	}
	sort.Slice(listed, func(i, j int) bool { return listed[i].less(listed[j]) })
	a.oldest, a.newest = listed[0], listed[len(listed)-1]
	if a.olderUnfixed && a.introduced != nil && !branchOf(*a.introduced).less(a.oldest) {
		return nil, errors.New("older_unfixed covers no branch: introduced is on or after the oldest listed branch")
	}
	if ra.NewerFixedIn != "" {
		v, err := parseStrictVersion(ra.NewerFixedIn)
		if err != nil {
			return nil, fmt.Errorf("newer_fixed_in: %w", err)
		}
		if !a.newest.less(branchOf(v)) {
			return nil, fmt.Errorf("newer_fixed_in %s is not on a branch newer than %s", ra.NewerFixedIn, a.newest)
		}
		a.newerFixedIn = &v
	}
	return a, nil
}
