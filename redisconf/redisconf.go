// Package redisconf reads redis.conf and valkey.conf files as the servers'
// own config loader does (config.c, loadServerConfigFromString): one
// directive per line, arguments split by sdssplitargs' quoting rules,
// directive names case-insensitive, comments and blank lines skipped, and
// include directives followed in place. It knows nothing of what directives
// mean: the offline audit (collector/offline) does.
//
// Errors name the file and the line, never the line's content: a line may
// hold a password (requirepass, masterauth, user ... >secret).
package redisconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Directive is one configuration line.
type Directive struct {
	// Name is the directive's name, lower case ("rename-command").
	Name string
	// Args are the arguments after the name, unquoted.
	Args []string
	// File and Line (1-based) locate the directive.
	File string
	Line int
}

// Config is a parsed configuration file with its includes.
type Config struct {
	// Directives are in the order the server applies them: an include's
	// directives where the include line is.
	Directives []Directive
	// Files are the files read, the main one first.
	Files []string
}

// Last returns the last directive of that name: for most directives the
// one in effect.
func (c *Config) Last(name string) (Directive, bool) {
	for i := len(c.Directives) - 1; i >= 0; i-- {
		if c.Directives[i].Name == name {
			return c.Directives[i], true
		}
	}
	return Directive{}, false
}

// All returns every directive of that name, in order (user,
// rename-command, loadmodule, client-output-buffer-limit accumulate).
func (c *Config) All(name string) []Directive {
	var out []Directive
	for _, d := range c.Directives {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// maxIncludeDepth bounds include chains; a file including itself would
// otherwise recurse forever (the server itself crashes on it).
const maxIncludeDepth = 16

// maxLineLength bounds a line; the servers' own limit is far larger, but a
// configuration line of megabytes is a mistake, not a setting.
const maxLineLength = 1 << 20

// Error is a problem at a line of a file. Its text never includes the
// line's content.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Load reads the file at path and the files it includes. A relative include
// path is resolved against the including file's directory first and the
// current directory second (the server resolves it against its working
// directory, which an audit in CI does not have).
func Load(path string) (*Config, error) {
	c := &Config{}
	if err := c.load(path, 0, map[string]bool{}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) load(path string, depth int, open map[string]bool) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if open[abs] {
		return &Error{File: path, Msg: "includes itself (directly or through other files)"}
	}
	if depth > maxIncludeDepth {
		return &Error{File: path, Msg: fmt.Sprintf("includes nested more than %d deep", maxIncludeDepth)}
	}
	f, err := os.Open(path)
	if err != nil {
		return err // *PathError names the file
	}
	defer f.Close()
	directives, err := Parse(f, path)
	if err != nil {
		return err
	}
	open[abs] = true
	defer delete(open, abs)
	c.Files = append(c.Files, path)
	for _, d := range directives {
		if d.Name != "include" {
			c.Directives = append(c.Directives, d)
			continue
		}
		if len(d.Args) != 1 {
			return &Error{File: d.File, Line: d.Line, Msg: "include takes one file (or glob pattern)"}
		}
		files, err := includeFiles(d.Args[0], filepath.Dir(path))
		if err != nil {
			return &Error{File: d.File, Line: d.Line, Msg: err.Error()}
		}
		for _, inc := range files {
			if err := c.load(inc, depth+1, open); err != nil {
				return err
			}
		}
	}
	return nil
}

// includeFiles resolves an include argument: a file, or (7.0+) a glob whose
// matches are read in sorted order, as the server reads them.
func includeFiles(arg, dir string) ([]string, error) {
	candidates := []string{arg}
	if !filepath.IsAbs(arg) {
		candidates = []string{filepath.Join(dir, arg), arg}
	}
	glob := strings.ContainsAny(arg, "*?[")
	for _, p := range candidates {
		if glob {
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("include pattern %q: %v", arg, err)
			}
			if len(m) > 0 {
				sort.Strings(m)
				return m, nil
			}
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return []string{p}, nil
		}
	}
	if glob {
		return nil, nil // a pattern matching nothing is not an error for the server either
	}
	return nil, fmt.Errorf("included file %q not found (looked in %s and the current directory)", arg, dir)
}

// Parse reads one file's directives without following includes. file names
// the input in errors.
func Parse(r io.Reader, file string) ([]Directive, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineLength)
	var out []Directive
	n := 0
	for sc.Scan() {
		n++
		line := strings.Trim(sc.Text(), " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		args, err := SplitArgs(line)
		if err != nil {
			return nil, &Error{File: file, Line: n, Msg: err.Error()}
		}
		if len(args) == 0 {
			continue
		}
		out = append(out, Directive{Name: strings.ToLower(args[0]), Args: args[1:], File: file, Line: n})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{File: file, Line: n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLineLength)}
		}
		return nil, &Error{File: file, Msg: err.Error()}
	}
	return out, nil
}

// SplitArgs splits a line as the server's sdssplitargs does: arguments are
// separated by white space; "double quotes" take \n \r \t \b \a \\ \" and
// \xHH escapes, 'single quotes' only \'; a closing quote must be followed
// by white space or the end of the line; a quote inside an unquoted
// argument starts a quoted part of the same argument. The error never
// quotes the line.
func SplitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
		done := false
		for !done {
			switch {
			case inDouble:
				if i >= len(line) {
					return nil, errors.New("unbalanced double quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("a closing double quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, c)
				}
				i++
			case inSingle:
				if i >= len(line) {
					return nil, errors.New("unbalanced single quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("a closing single quote must be followed by a space")
					}
					done = true
				default:
					cur = append(cur, c)
				}
				i++
			default:
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; {
				case isSpace(c) || c == 0:
					done = true
				case c == '"':
					inDouble = true
				case c == '\'':
					inSingle = true
				default:
					cur = append(cur, c)
				}
				i++
			}
		}
		out = append(out, string(cur))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
