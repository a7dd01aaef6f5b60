package vuln

import (
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// now is the clock EndOfLife compares announced dates against.
var now = time.Now

type rawEOL struct {
	Flavors map[string]rawEOLFlavor `json:"flavors"`
}

type rawEOLFlavor struct {
	EOLBelow       string                  `json:"eol_below"`
	EOLBelowSource string                  `json:"eol_below_source"`
	EOLBelowNote   string                  `json:"eol_below_note"`
	Branches       map[string]rawEOLBranch `json:"branches"`
}

type rawEOLBranch struct {
	EOL        *bool  `json:"eol"`
	EOLFrom    string `json:"eol_from"`
	KnownUntil string `json:"known_until"`
	Source     string `json:"source"`
	Note       string `json:"note"`
}

// eolBranch is the support status of one branch.
type eolBranch struct {
	eol        bool
	eolFrom    time.Time // zero: no announced end
	knownUntil time.Time // zero: no limit; else unknown from the day after
}

type eolFlavor struct {
	eolBelow *branch // every branch older than this is EOL
	branches map[branch]eolBranch
}

type eolTable struct {
	flavors map[redisinfo.Flavor]eolFlavor
}

func parseDate(s string) (time.Time, error) {
	if !dateRe.MatchString(s) {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return time.Parse(time.DateOnly, s)
}

func parseEOL(raw rawEOL) (*eolTable, error) {
	if len(raw.Flavors) == 0 {
		return nil, errors.New("flavors: none listed")
	}
	t := &eolTable{flavors: map[redisinfo.Flavor]eolFlavor{}}
	for name, rf := range raw.Flavors {
		f, err := parseFlavor(name)
		if err != nil {
			return nil, err
		}
		ef := eolFlavor{branches: map[branch]eolBranch{}}
		if rf.EOLBelow != "" {
			b, err := parseBranch(rf.EOLBelow)
			if err != nil {
				return nil, fmt.Errorf("%s eol_below: %w", name, err)
			}
			if err := checkURL(rf.EOLBelowSource); err != nil {
				return nil, fmt.Errorf("%s eol_below_source: %w", name, err)
			}
			ef.eolBelow = &b
		} else if rf.EOLBelowSource != "" || rf.EOLBelowNote != "" {
			return nil, fmt.Errorf("%s: eol_below_source/note without eol_below", name)
		}
		for bs, rb := range rf.Branches {
			b, err := parseBranch(bs)
			if err != nil {
				return nil, fmt.Errorf("%s branches: %w", name, err)
			}
			eb, err := parseEOLBranch(rb)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", name, bs, err)
			}
			if ef.eolBelow != nil && b.less(*ef.eolBelow) && !eb.eol {
				return nil, fmt.Errorf("%s %s: below eol_below %s but not eol", name, bs, ef.eolBelow)
			}
			ef.branches[b] = eb
		}
		t.flavors[f] = ef
	}
	return t, nil
}

func parseEOLBranch(rb rawEOLBranch) (eolBranch, error) {
	var eb eolBranch
	if rb.EOL == nil {
		return eb, errors.New("eol must be given")
	}
	eb.eol = *rb.EOL
	if err := checkURL(rb.Source); err != nil {
		return eb, fmt.Errorf("source: %w", err)
	}
	if rb.Note == "" {
		return eb, errors.New("note must say what the status rests on")
	}
	var err error
	if rb.EOLFrom != "" {
		if eb.eol {
			return eb, errors.New("eol_from on a branch that is already eol")
		}
		if eb.eolFrom, err = parseDate(rb.EOLFrom); err != nil {
			return eb, fmt.Errorf("eol_from: %w", err)
		}
	}
	if rb.KnownUntil != "" {
		if eb.eol {
			return eb, errors.New("known_until on a branch that is eol")
		}
		if eb.knownUntil, err = parseDate(rb.KnownUntil); err != nil {
			return eb, fmt.Errorf("known_until: %w", err)
		}
	}
	return eb, nil
}

func (t *eolTable) endOfLife(flavor redisinfo.Flavor, v redisinfo.Version, at time.Time) (eol, known bool) {
	f, ok := t.flavors[flavor]
	if !ok {
		return false, false
	}
	b := branchOf(v)
	if eb, ok := f.branches[b]; ok {
		switch {
		case eb.eol:
			return true, true
		case !eb.eolFrom.IsZero() && !at.Before(eb.eolFrom):
			return true, true
		case !eb.knownUntil.IsZero() && !at.Before(eb.knownUntil.AddDate(0, 0, 1)):
			return false, false
		}
		return false, true
	}
	if f.eolBelow != nil && b.less(*f.eolBelow) {
		return true, true
	}
	return false, false
}
