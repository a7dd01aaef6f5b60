// Package docs holds the tests of the user documentation: README.md and the
// reference pages beside this file. docs/incoming/ (notes other branches
// leave for the lead to fold in) is not part of it.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
)

// root is the repository, seen from this package's directory.
const root = ".."

// pages returns README.md and every docs/*.md, by repository path.
func pages(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range append([]string{filepath.Join(root, "README.md")}, files...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[repoPath(f)] = string(b)
	}
	if len(out) < 10 {
		t.Fatalf("only %d pages found: README.md and docs/*.md expected", len(out))
	}
	return out
}

// repoPath turns a path relative to this directory into one relative to the
// repository root (docs/flags.md, README.md).
func repoPath(p string) string {
	return filepath.ToSlash(filepath.Clean(filepath.Join("docs", p)))
}

// prose returns doc's lines outside fenced code blocks, with their numbers.
func prose(doc string) (lines []string, numbers []int) {
	fence := false
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
			continue
		}
		if !fence {
			lines = append(lines, l)
			numbers = append(numbers, i+1)
		}
	}
	return lines, numbers
}

var (
	headingRE    = regexp.MustCompile(`^(#{1,6}) +(.*?) *#*$`)
	inlineLinkRE = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)
	codeSpanRE   = regexp.MustCompile("`[^`]*`")
)

// githubAnchor is GitHub's anchor of a heading: the rendered text in lower
// case, punctuation dropped (letters, digits, '-' and '_' kept), spaces to '-'.
func githubAnchor(heading string) string {
	heading = inlineLinkRE.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the heading anchors of doc; a repeated heading gets -1,
// -2 ... as on GitHub.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	lines, _ := prose(doc)
	for _, l := range lines {
		m := headingRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		a := githubAnchor(m[2])
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

func TestGitHubAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Many targets: /probe and discovery":   "many-targets-probe-and-discovery",
		"In a CI pipeline: `check`":            "in-a-ci-pipeline-check",
		"RedisSecurityAuthFailureSpike":        "redissecurityauthfailurespike",
		"Dangerous commands (commands)":        "dangerous-commands-commands",
		"/probe":                               "probe",
		"Network exposure (config, info, acl)": "network-exposure-config-info-acl",
		"[TLS](tls.md) settings":               "tls-settings",
	} {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	got := anchors("# A\n## B\n```\n# not a heading\n```\n## B\n## B\n")
	for _, want := range []string{"a", "b", "b-1", "b-2"} {
		if !got[want] {
			t.Errorf("anchors: no %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block was taken for a heading")
	}
}

// TestLinksResolve: every relative link of README.md and docs/*.md names a
// file or directory of the repository, and every #anchor a heading of the
// page it points at.
func TestLinksResolve(t *testing.T) {
	docs := pages(t)
	anchorsOf := map[string]map[string]bool{}
	for p, doc := range docs {
		anchorsOf[p] = anchors(doc)
	}
	links := 0
	for p, doc := range docs {
		lines, numbers := prose(doc)
		for i, l := range lines {
			for _, m := range inlineLinkRE.FindAllStringSubmatch(codeSpanRE.ReplaceAllString(l, ""), -1) {
				target := m[2]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				file, anchor, _ := strings.Cut(target, "#")
				dest := p
				if file != "" {
					dest = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(p), file)))
					if _, err := os.Stat(filepath.Join(root, dest)); err != nil {
						t.Errorf("%s:%d: link %q: %s does not exist", p, numbers[i], target, dest)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				a, ok := anchorsOf[dest]
				if !ok {
					t.Errorf("%s:%d: link %q has an anchor into %s, which is not a checked page", p, numbers[i], target, dest)
					continue
				}
				if !a[anchor] {
					t.Errorf("%s:%d: link %q: %s has no heading whose anchor is #%s", p, numbers[i], target, dest, anchor)
				}
			}
		}
	}
	if links < 50 {
		t.Errorf("only %d relative links found: the link parser is broken", links)
	}
}

// TestNoFactInTwoPlaces: no line of prose (40 characters or more, outside
// code blocks, tables' header and separator rows) appears twice in README.md and
// docs/: one place per fact, links elsewhere.
func TestNoFactInTwoPlaces(t *testing.T) {
	seen := map[string]string{}
	docs := pages(t)
	paths := make([]string, 0, len(docs))
	for p := range docs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		lines, numbers := prose(docs[p])
		for i, l := range lines {
			key := strings.Join(strings.Fields(l), " ")
			header := i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|---")
			if len(key) < 40 || strings.HasPrefix(key, "|---") || header {
				continue // table headers repeat by design
			}
			where := fmt.Sprintf("%s:%d", p, numbers[i])
			if first, dup := seen[key]; dup {
				t.Errorf("%s repeats %s (%q): keep it in one place and link to it", where, first, key)
				continue
			}
			seen[key] = where
		}
	}
}

// TestChecksDocumentsEveryCheck: docs/checks.md has one row per check of
// collector.Checks with the same severity, finding and remediation, input
// metrics that docs/metrics.md documents, and no row for an unknown check.
func TestChecksDocumentsEveryCheck(t *testing.T) {
	docs := pages(t)
	lines, _ := prose(docs["docs/checks.md"])
	rows := map[string][]string{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		l = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|"), `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(l, "|") {
			cells = append(cells, strings.TrimSpace(strings.ReplaceAll(c, "\x00", "|")))
		}
		id := strings.Trim(cells[0], "`")
		if len(cells) != 5 {
			t.Errorf("docs/checks.md: the row of %s needs the columns check | severity | inputs | finding | remediation", id)
			continue
		}
		rows[id] = cells
	}
	metricsDoc := docs["docs/metrics.md"]
	known := map[string]bool{}
	for _, c := range collector.Checks {
		known[c.ID] = true
		r, ok := rows[c.ID]
		if !ok {
			t.Errorf("check %s (%s) is not documented in docs/checks.md: add a row `| `%s` | %s | input metrics | %s | %s |`", c.ID, c.Severity, c.ID, c.Severity, c.Title, c.Remediation)
			continue
		}
		for i, want := range []string{string(c.Severity), "", c.Title, c.Remediation} {
			if want != "" && r[i+1] != want {
				t.Errorf("docs/checks.md: check %s says %q, collector.Checks %q: copy it from collector/findings.go", c.ID, r[i+1], want)
			}
		}
		inputs := regexp.MustCompile("`(redis_security_[a-z0-9_]+)[^`]*`").FindAllStringSubmatch(r[2], -1)
		if len(inputs) == 0 {
			t.Errorf("docs/checks.md: check %s lists no input metrics (the metrics its eval reads in collector/findings.go)", c.ID)
		}
		for _, in := range inputs {
			if !strings.Contains(metricsDoc, "| `"+in[1]+"` |") {
				t.Errorf("docs/checks.md: check %s reads %s, which docs/metrics.md does not document", c.ID, in[1])
			}
		}
	}
	for id := range rows {
		if !known[id] {
			t.Errorf("docs/checks.md documents check %s, which collector.Checks does not have: remove its row", id)
		}
	}
}

// TestRunbookURLsResolve: every runbook_url of the alert rules and of their
// promtool tests points at a heading of docs/runbooks.md, through the
// repository's GitHub address.
func TestRunbookURLsResolve(t *testing.T) {
	runbooks := anchors(pages(t)["docs/runbooks.md"])
	files, err := filepath.Glob(filepath.Join(root, "alerts", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, _ := filepath.Glob(filepath.Join(root, "alerts", "tests", "*.yml"))
	files = append(files, tests...)
	urlRE := regexp.MustCompile(`runbook_url: *(\S+)`)
	const prefix = "https://github.com/redis-security/redis_security_exporter/blob/main/docs/runbooks.md#"
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range urlRE.FindAllStringSubmatch(string(b), -1) {
			n++
			url := strings.Trim(m[1], `"'`)
			anchor, ok := strings.CutPrefix(url, prefix)
			if !ok {
				t.Errorf("%s: runbook_url %s does not start with %s", f, url, prefix)
				continue
			}
			if !runbooks[anchor] {
				t.Errorf("%s: runbook_url %s: docs/runbooks.md has no heading for #%s: add a section for the alert there", f, url, anchor)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d runbook_url found in alerts/: the rules should have one per alert", n)
	}
}
