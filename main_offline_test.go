package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestCIExampleCommands runs the check commands of the README's CI examples
// as written, against the repository's example configurations, and checks
// the exit status the job expects and the report format it uploads.
func TestCIExampleCommands(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*- (?:run: )?redis_security_exporter (check [^>\n]*?)\s*>\s*(\S+)(.*)$`)
	matches := re.FindAllStringSubmatch(string(readme), -1)
	if len(matches) < 2 {
		t.Fatalf("README has %d CI check commands, want the GitHub Actions and the GitLab one", len(matches))
	}
	for _, m := range matches {
		args := strings.Fields(m[1])
		out, code := runMain(t, nil, args...)
		accepts1 := strings.Contains(m[3], "test $? -eq 1")
		if code != 0 && !(accepts1 && code == 1) {
			t.Errorf("%s: exit %d, which fails the job\n%s", m[1], code, out)
			continue
		}
		switch {
		case strings.Contains(m[1], "--output=sarif"):
			var sarif struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []struct {
						RuleID    string `json:"ruleId"`
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI string `json:"uri"`
								} `json:"artifactLocation"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
				t.Fatalf("%s: not a SARIF 2.1.0 log (%v):\n%s", m[1], err, out)
			}
			for _, r := range sarif.Runs[0].Results {
				if len(r.Locations) == 0 || !strings.HasPrefix(r.Locations[0].PhysicalLocation.ArtifactLocation.URI, "examples/") {
					t.Errorf("%s: result %s not located in the audited file", m[1], r.RuleID)
				}
			}
		case strings.Contains(m[1], "--output=junit"):
			var suites struct {
				Suites []struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal([]byte(out), &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Failures == 0 {
				t.Fatalf("%s: want one JUnit testsuite with failures (%v):\n%s", m[1], err, out)
			}
		default:
			t.Errorf("%s: no --output a CI system reads", m[1])
		}
	}
}

// TestOfflineCheckFlags: the offline flags are checked before anything is
// audited, and a weak configuration's secrets never reach the output.
func TestOfflineCheckFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check"}, "check needs a target address or --redis.conf FILE"},
		{[]string{"check", "--acl-file=examples/users.acl", "127.0.0.1:1"}, "check --acl-file needs --redis.conf"},
		{[]string{"check", "--server-version=7.2.4", "127.0.0.1:1"}, "check --server-version needs --redis.conf"},
		{[]string{"check", "--redis.conf=examples/redis-weak.conf", "--server-version=keydb:6.3"}, "the flavor must be redis or valkey"},
		{[]string{"check", "--redis.conf=examples/absent.conf"}, "examples/absent.conf"},
	} {
		out, code := runMainStderr(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", tc.args, code, tc.want, out)
		}
	}
	for _, format := range []string{"text", "json", "sarif", "junit"} {
		out, code := runMain(t, nil, "check", "--redis.conf=examples/redis-weak.conf", "--acl-file=examples/users.acl", "--output="+format)
		if code != 1 {
			t.Errorf("weak example, %s: exit %d, want 1\n%s", format, code, out)
		}
		for _, secret := range []string{"changeme", "Reporting-Shared-Pw-2026"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s report holds the password %q", format, secret)
			}
		}
		for _, want := range []string{"user_weak_password", "exposed_without_auth", "examples/redis-weak.conf", "reporting", "billing"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q", format, want)
			}
		}
	}
}

// runMainStderr runs the command like runMain and returns its stderr, where
// start-up errors go, after its stdout (the report).
func runMainStderr(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"RSE_TEST_MAIN=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String() + stderr.String(), code
}
