package aclrule_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector/internal/aclrule"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

// respLength matches RESP array and bulk headers, whose lengths redistest
// allocates up front (strconv.Atoi also takes "+9999999999").
var respLength = regexp.MustCompile(`[*$]([^\r\n]*)\r\n`)

// FuzzParseCommandInfo feeds RESP2 replies, seeded with every recorded COMMAND
// INFO reply, to ParseCommandInfo. Property: it never panics, and what it
// returns is keyed by lower-case names equal to the entries' Name.
func FuzzParseCommandInfo(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/command_info.resp")
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata")
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// A header announcing more elements or bytes than the input holds
		// cannot be valid; skip it rather than let the RESP reader allocate it.
		for _, m := range respLength.FindAllSubmatch(b, -1) {
			if n, err := strconv.Atoi(string(m[1])); err == nil && n > len(b) {
				return
			}
		}
		res, err := redistest.ParseRESP2(b)
		if err != nil {
			return
		}
		arr, ok := res.Value.([]any)
		if !ok {
			return
		}
		infos, err := aclrule.ParseCommandInfo(arr)
		if err != nil {
			return
		}
		for k, ci := range infos {
			if k != ci.Name || k != strings.ToLower(k) || k == "" {
				t.Fatalf("key %q holds %q", k, ci.Name)
			}
			for sub := range ci.Subcommands {
				// Must not panic either, and cover the container's categories.
				cats := ci.CategoriesFor(sub)
				if len(cats) < len(ci.Categories) {
					t.Fatalf("%s|%s: %v lost container categories %v", k, sub, cats, ci.Categories)
				}
				_ = (aclrule.Permissions{CommandRules: []string{"+@all", "-" + k + "|" + sub}}).Allows(k, sub, cats)
			}
		}
	})
}
