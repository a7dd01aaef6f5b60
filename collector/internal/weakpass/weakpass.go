// Package weakpass is a set of SHA-256 hashes of known weak and default
// passwords, compared with the unsalted SHA-256 hashes that ACL LIST shows.
//
// The set holds hashes only, as 32-byte arrays. Nothing in this package logs,
// and no error quotes an entry: the entries of an operator's file may be real
// passwords.
package weakpass

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

//go:generate go run ./internal/genzxcvbn -o zxcvbn_passwords.txt

// defaults is the hand-made list of Redis-specific and vendor default
// passwords, each group with its source.
//
//go:embed defaults.txt
var defaults []byte

// zxcvbnPasswords is generated from the password frequency list of
// github.com/nbutton23/zxcvbn-go (MIT), most common first.
//
//go:embed zxcvbn_passwords.txt
var zxcvbnPasswords []byte

// MaxLineBytes bounds one line of a list: a longer line stops the load with
// an error instead of holding an unbounded buffer.
const MaxLineBytes = 1 << 20

// Set is a set of SHA-256 password hashes. The zero value is not usable: use
// New or Bundled. A nil *Set contains nothing.
type Set struct {
	hashes map[[sha256.Size]byte]struct{}
}

// New returns an empty set.
func New() *Set {
	return &Set{hashes: map[[sha256.Size]byte]struct{}{}}
}

// Bundled returns a set of the bundled lists: defaults.txt, the empty
// password, and zxcvbn's common passwords, each also with its first letter
// upper-cased ("password" and "Password").
func Bundled() *Set {
	s := New()
	if _, err := s.Read(bytes.NewReader(defaults)); err != nil {
		panic("weakpass: bundled defaults.txt: " + err.Error()) // a build defect, caught by the tests
	}
	// "ACL SETUSER u on >" gives u the empty password (its hash is that of
	// ""); an empty line cannot say so in a list.
	s.AddPassword("")
	sc := newScanner(bytes.NewReader(zxcvbnPasswords))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		s.AddPassword(line)
		if c := capitalized(line); c != line {
			s.AddPassword(c)
		}
	}
	if err := sc.Err(); err != nil {
		panic("weakpass: bundled zxcvbn_passwords.txt: " + err.Error())
	}
	return s
}

// capitalized upper-cases an ASCII lowercase first letter.
func capitalized(p string) string {
	if p != "" && p[0] >= 'a' && p[0] <= 'z' {
		return string(p[0]-'a'+'A') + p[1:]
	}
	return p
}

// Len is the number of distinct hashes.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.hashes)
}

// AddPassword adds the hash of a plaintext password.
func (s *Set) AddPassword(password string) {
	s.hashes[sha256.Sum256([]byte(password))] = struct{}{}
}

// AddHash adds a hex SHA-256 hash (either case).
func (s *Set) AddHash(hexSHA256 string) error {
	h, ok := decode(hexSHA256)
	if !ok {
		return errors.New("not a hex SHA-256 hash (64 hexadecimal characters)")
	}
	s.hashes[h] = struct{}{}
	return nil
}

// ContainsHash reports whether the hex SHA-256 hash (either case) is in the
// set. It implements collector.PasswordSet.
func (s *Set) ContainsHash(hexSHA256 string) bool {
	if s == nil {
		return false
	}
	h, ok := decode(hexSHA256)
	if !ok {
		return false
	}
	_, found := s.hashes[h]
	return found
}

func decode(hexSHA256 string) (h [sha256.Size]byte, ok bool) {
	if len(hexSHA256) != 2*sha256.Size {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(hexSHA256)); err != nil {
		return h, false
	}
	return h, true
}

// Read adds the entries of a list and returns how many it read. One entry a
// line: a line of exactly 64 hexadecimal characters (surrounding blanks
// ignored) is a SHA-256 hash; any other line is a plaintext password, taken
// verbatim except for its line ending (LF or CRLF). Lines whose first
// non-blank character is '#', and blank lines, are ignored (list a password
// that starts with '#' by its hash). A UTF-8 byte order mark is ignored.
// Errors name a line number, never a line.
func (s *Set) Read(r io.Reader) (int, error) {
	sc := newScanner(r)
	n, lineNo := 0, 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#':
			continue
		case isHex64(trimmed):
			_ = s.AddHash(trimmed) // cannot fail: checked
		default:
			s.AddPassword(line)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return n, fmt.Errorf("line %d is longer than %d bytes", lineNo+1, MaxLineBytes)
		}
		return n, err
	}
	return n, nil
}

// ReadFile adds the entries of the list in file path (see Read). Errors name
// the file, never its contents.
func (s *Set) ReadFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err // *fs.PathError: "open <path>: <reason>"
	}
	defer f.Close()
	n, err := s.Read(f)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "read <path>: is a directory": the path is said below
		}
		return n, fmt.Errorf("reading %s: %w", path, err)
	}
	return n, nil
}

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	return sc // bufio.ScanLines drops the \r of CRLF
}

func isHex64(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
