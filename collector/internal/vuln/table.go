package vuln

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// vulnerabilitiesJSON is the table shipped in the binary. An operator's
// --vuln.file has the same schema and replaces it whole.
//
//go:embed vulnerabilities.json
var vulnerabilitiesJSON []byte

// MaxFileSize bounds a table file: the shipped one is about 60 KB, so a
// file a thousand times that is a mistake (a wrong path), not a table.
const MaxFileSize = 64 << 20

// Table is a validated table of vulnerabilities and branch end-of-life
// data. It is immutable once parsed, so one table is shared by every
// target and goroutine.
type Table struct {
	asOf     string
	asOfTime time.Time
	scope    string
	entries  []entry
	eol      *eolTable
}

var embedded = mustParse(vulnerabilitiesJSON)

func mustParse(b []byte) *Table {
	t, err := Parse(b)
	if err != nil {
		panic("vuln: embedded vulnerabilities.json: " + err.Error())
	}
	return t
}

// Embedded returns the table compiled into the binary.
func Embedded() *Table { return embedded }

// Parse validates a table document (the schema of vulnerabilities.json)
// strictly: unknown fields, malformed ids, versions, branches, dates and
// URLs, duplicate ids, rows without sources, unverified rows without a note
// and a missing end_of_life section are errors that say where they are.
func Parse(b []byte) (*Table, error) {
	t, err := parseTable(b)
	if err != nil {
		return nil, withPosition(b, err)
	}
	return t, nil
}

// Load reads and parses a table file. Its errors name the file.
func Load(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: names the file
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a table may have", path, st.Size(), MaxFileSize)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// withPosition adds the line and column to the JSON decoder's errors,
// which only know a byte offset.
func withPosition(b []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // the offset is just past the bad byte
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Match returns the vulnerabilities that affect version v of flavor, sorted
// by CVE id. For Valkey, v must be the Valkey version (valkey_version), not
// the Redis compatibility version.
func (t *Table) Match(flavor redisinfo.Flavor, v redisinfo.Version) []Vulnerability {
	return t.match(flavor, v)
}

// MatchServer is Match on the server's own flavor and version: Valkey is
// matched on valkey_version, never on its redis_version.
func (t *Table) MatchServer(s redisinfo.Server) []Vulnerability {
	return t.match(s.Flavor, s.Version)
}

// EndOfLife reports whether v's release branch (major.minor) no longer gets
// security fixes from its project. known is false for a branch the table
// does not know (a newer release, or a flavor it has no data for) and for a
// branch whose known support window has passed without an announced end:
// the exporter should then report nothing rather than guess. Valkey must be
// given its own version, not redis_version.
func (t *Table) EndOfLife(flavor redisinfo.Flavor, v redisinfo.Version) (eol bool, known bool) {
	return t.eol.endOfLife(flavor, v, now())
}

// All returns every row of the table, sorted by CVE id (FixedIn is empty).
func (t *Table) All() []Vulnerability {
	out := make([]Vulnerability, len(t.entries))
	for i, e := range t.entries {
		out[i] = e.Vulnerability
		out[i].Sources = append([]string(nil), e.Sources...)
	}
	return out
}

// AsOf is the date (YYYY-MM-DD) the table was last checked against the
// advisories and release notes.
func (t *Table) AsOf() string { return t.asOf }

// AsOfTime is AsOf as midnight UTC of that day.
func (t *Table) AsOfTime() time.Time { return t.asOfTime }

// Len is the number of rows.
func (t *Table) Len() int { return len(t.entries) }

// The functions below use the embedded table.

// Match is Embedded().Match.
func Match(flavor redisinfo.Flavor, v redisinfo.Version) []Vulnerability {
	return embedded.Match(flavor, v)
}

// MatchServer is Embedded().MatchServer.
func MatchServer(s redisinfo.Server) []Vulnerability { return embedded.MatchServer(s) }

// EndOfLife is Embedded().EndOfLife.
func EndOfLife(flavor redisinfo.Flavor, v redisinfo.Version) (eol bool, known bool) {
	return embedded.EndOfLife(flavor, v)
}

// All is Embedded().All.
func All() []Vulnerability { return embedded.All() }

// AsOf is Embedded().AsOf.
func AsOf() string { return embedded.AsOf() }
