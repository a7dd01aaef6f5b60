package check

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/redis-security/redis_security_exporter/collector"
)

// SARIF 2.1.0 (OASIS), the subset the check command writes. Code-scanning
// services (GitHub, GitLab) read one run per tool: one rule per check id,
// one result per failing check and target.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	Help                 sarifHelp         `json:"help"`
	HelpURI              string            `json:"helpUri"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	// SecuritySeverity is GitHub's 0-10 score string: >= 9 critical, 7-8.9
	// high, 4-6.9 medium, < 4 low.
	SecuritySeverity string   `json:"security-severity"`
	Severity         string   `json:"severity"`
	Tags             []string `json:"tags"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string              `json:"level"`
	Message    sarifText           `json:"message"`
	Descriptor *sarifDescriptorRef `json:"descriptor,omitempty"`
	Locations  []sarifLocation     `json:"locations,omitempty"`
}

type sarifDescriptorRef struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// sarifLevels maps severities to SARIF levels and GitHub's score.
var sarifLevels = map[collector.Severity]struct{ level, score string }{
	collector.Critical: {"error", "9.5"},
	collector.High:     {"error", "8.0"},
	collector.Medium:   {"warning", "5.5"},
	collector.Low:      {"note", "3.0"},
}

const (
	informationURI = "https://github.com/redis-security/redis_security_exporter"
	checksDocURI   = informationURI + "/blob/main/docs/checks.md#"
)

// WriteSARIF writes the report as one SARIF 2.1.0 run: every check of
// collector.Checks is a rule (help text: the remediation), every failing
// finding a result located at the file and line (offline audits) or at the
// target's URI (live audits). Checks not evaluated and targets that could
// not be audited are tool notifications of the invocation.
func WriteSARIF(w io.Writer, r Report, version string) error {
	run := sarifRun{
		Tool:    sarifTool{Driver: sarifDriver{Name: "redis_security_exporter", Version: version, InformationURI: informationURI}},
		Results: []sarifResult{},
	}
	index := map[string]int{}
	for i, c := range collector.Checks {
		index[c.ID] = i
		lv := sarifLevels[c.Severity]
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: c.ID, Name: ruleName(c.ID),
			ShortDescription:     sarifText{Text: c.Title},
			Help:                 sarifHelp{Text: c.Remediation, Markdown: c.Remediation + "\n\n[" + c.ID + "](" + checksDocURI + c.ID + ")"},
			HelpURI:              checksDocURI + c.ID,
			DefaultConfiguration: sarifRuleConfig{Level: lv.level},
			Properties:           sarifRuleProperty{SecuritySeverity: lv.score, Severity: string(c.Severity), Tags: []string{"security", "redis"}},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, t := range r.Targets {
		if !t.Up {
			inv.ExecutionSuccessful = false
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "error", Message: sarifText{Text: "not audited: " + t.Error},
				Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: artifactURI(t.Target, t.Kind)}}}},
			})
			continue
		}
		for _, f := range t.Findings {
			if !f.Failed {
				continue
			}
			msg := f.Title
			if o := objectNames(f); o != "" {
				msg += ": " + o
			}
			loc := sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: artifactURI(t.Target, t.Kind)}}
			if f.Location != nil {
				loc.ArtifactLocation.URI = artifactURI(f.Location.File, Offline)
				if f.Location.Line > 0 {
					loc.Region = &sarifRegion{StartLine: f.Location.Line}
				}
			}
			run.Results = append(run.Results, sarifResult{
				RuleID: f.Check, RuleIndex: index[f.Check], Level: sarifLevels[f.Severity].level,
				Message: sarifText{Text: msg}, Locations: []sarifLocation{{PhysicalLocation: loc}},
			})
		}
		for _, n := range t.NotEvaluated {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level: "note", Message: sarifText{Text: fmt.Sprintf("%s: %s not evaluated: %s", t.Target, n.Check, n.Reason)},
				Descriptor: &sarifDescriptorRef{ID: n.Check},
			})
		}
	}
	run.Invocations = []sarifInvocation{inv}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// ruleName is the check id in SARIF's PascalCase rule-name style.
func ruleName(id string) string {
	parts := strings.Split(id, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// artifactURI is a target as a SARIF artifact URI: a live target's URI as
// it is, a file as a relative URI reference (slashes, escaped), so that code
// scanning resolves it against the repository.
func artifactURI(target string, kind Kind) string {
	if kind != Offline {
		return target
	}
	p := filepath.ToSlash(target)
	u := url.URL{Path: p}
	return u.EscapedPath()
}
