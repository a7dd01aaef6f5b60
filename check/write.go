package check

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector"
)

// Formats are the values of --output.
var Formats = []string{"text", "json", "sarif", "junit"}

// Write writes the report in format (one of Formats). version is the
// exporter's, for SARIF's tool.driver.
func Write(w io.Writer, r Report, format, version string) error {
	switch format {
	case "text":
		return WriteText(w, r)
	case "json":
		return WriteJSON(w, r)
	case "sarif":
		return WriteSARIF(w, r, version)
	case "junit":
		return WriteJUnit(w, r)
	}
	return fmt.Errorf("--output %q: want %s", format, strings.Join(Formats, ", "))
}

// ValidFormat reports whether format is one of Formats.
func ValidFormat(format string) bool {
	for _, f := range Formats {
		if f == format {
			return true
		}
	}
	return false
}

// objectNames renders a finding's objects for text, JUnit and SARIF.
func objectNames(f Finding) string {
	names := make([]string, len(f.Objects))
	for i, o := range f.Objects {
		names[i] = o.String()
	}
	return strings.Join(names, ", ")
}

// where renders a finding's location ("redis.conf:12", "redis.conf
// (default)"), "" for live targets.
func where(f Finding) string {
	if f.Location == nil {
		return ""
	}
	if f.Location.Line == 0 {
		return f.Location.File + " (default)"
	}
	return fmt.Sprintf("%s:%d", f.Location.File, f.Location.Line)
}

// WriteText writes a readable report per target: each failing check with
// what it is about (and, offline, where) and its remediation, then the
// passing ones, then those not evaluated with the reason.
func WriteText(w io.Writer, r Report) error {
	for i, t := range r.Targets {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if !t.Up {
			fmt.Fprintf(w, "%s: NOT AUDITED: %s\n", t.Target, t.Error)
			continue
		}
		header := fmt.Sprintf("%s: %d of %d checks fail", t.Target, t.Failing(), len(t.Findings))
		if t.Kind == Offline {
			header += " (offline audit"
			if t.Server != "" {
				header += " for " + t.Server
			}
			header += ")"
		}
		fmt.Fprintf(w, "%s\n", header)
		for _, n := range t.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		fmt.Fprintln(w)
		// Failing checks as blocks (their objects can be long lists), the
		// passing ones on a line.
		var passing []string
		for _, f := range t.Findings {
			if !f.Failed {
				passing = append(passing, f.Check)
				continue
			}
			fmt.Fprintf(w, "FAIL %-8s %s: %s\n", f.Severity, f.Check, f.Title)
			if o := objectNames(f); o != "" {
				fmt.Fprintf(w, "     objects: %s\n", o)
			}
			if l := where(f); l != "" {
				fmt.Fprintf(w, "     where:   %s\n", l)
			}
			fmt.Fprintf(w, "     fix:     %s\n", f.Remediation)
		}
		if len(passing) > 0 {
			fmt.Fprintf(w, "\nok: %s\n", strings.Join(passing, ", "))
		}
		if len(t.NotEvaluated) > 0 {
			fmt.Fprintln(w, "\nnot evaluated:")
			for _, n := range t.NotEvaluated {
				fmt.Fprintf(w, "  %s: %s\n", n.Check, n.Reason)
			}
		}
		if len(t.Warnings) > 0 {
			fmt.Fprintln(w, "\nwarnings:")
			for _, s := range t.Warnings {
				fmt.Fprintf(w, "  %s\n", s)
			}
		}
	}
	return nil
}

// WriteJSON writes the report as {"targets": [...]}.
func WriteJSON(w io.Writer, r Report) error {
	for i := range r.Targets {
		r.Targets[i].normalise()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // remediations quote ACL rules: ">PASSWORD", not "\u003ePASSWORD"
	return enc.Encode(r)
}

// normalise makes the JSON arrays [] rather than null.
func (t *TargetReport) normalise() {
	if t.Findings == nil {
		t.Findings = []Finding{}
	}
	for i := range t.Findings {
		if t.Findings[i].Objects == nil {
			t.Findings[i].Objects = []collector.Object{}
		}
	}
	if t.NotEvaluated == nil {
		t.NotEvaluated = []NotEvaluated{}
	}
}

// junit* are the JUnit XML elements CI systems read (GitLab, Jenkins, the
// Surefire/Ant schema): one testsuite per target, one testcase per check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML: a testsuite per target and a testcase per
// check (classname the severity), failing checks as failures with their
// objects, location and remediation, checks not evaluated as skipped, and a
// target that could not be audited as one errored testcase.
func WriteJUnit(w io.Writer, r Report) error {
	out := junitSuites{Name: "redis_security_exporter check"}
	for _, t := range r.Targets {
		s := junitSuite{Name: t.Target}
		if !t.Up {
			s.Cases = append(s.Cases, junitCase{Name: "audit", Classname: "redis_security_exporter",
				Error: &junitMessage{Message: "not audited", Text: t.Error}})
			s.Errors++
		}
		for _, f := range t.Findings {
			c := junitCase{Name: f.Check, Classname: string(f.Severity)}
			if f.Failed {
				var b strings.Builder
				if o := objectNames(f); o != "" {
					fmt.Fprintf(&b, "objects: %s\n", o)
				}
				if l := where(f); l != "" {
					fmt.Fprintf(&b, "where: %s\n", l)
				}
				fmt.Fprintf(&b, "remediation: %s", f.Remediation)
				c.Failure = &junitMessage{Message: f.Title, Type: string(f.Severity), Text: b.String()}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		for _, n := range t.NotEvaluated {
			sev := ""
			for _, c := range collector.Checks {
				if c.ID == n.Check {
					sev = string(c.Severity)
				}
			}
			s.Cases = append(s.Cases, junitCase{Name: n.Check, Classname: sev, Skipped: &junitMessage{Message: n.Reason}})
			s.Skipped++
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
