package weakpass

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbutton23/zxcvbn-go/frequency"
)

func sum(p string) string {
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:])
}

func TestBundled(t *testing.T) {
	s := Bundled()
	random := make([]byte, 16)
	rand.Read(random)
	tests := []struct {
		password string
		want     bool
	}{
		{"foobared", true},
		{"password", true},
		{"123456", true},
		{"P@ssw0rd", true},
		{"Password", true}, // capitalised zxcvbn entry
		{"Dragon", true},   // capitalised zxcvbn entry
		{"trustno1", true}, // zxcvbn
		{"pookey", true},   // zxcvbn, near the end of the list
		{"ffa9203c493aa99", true},
		{"redis-stack", true},
		{"", true},          // ACL SETUSER u on >
		{"PASSWORD", false}, // only the listed spellings
		{"Xq9#long-unique-pw", false},
		{"s3cret-default", false},
		{hex.EncodeToString(random), false}, // 32 random hex characters
	}
	for _, tc := range tests {
		h := sum(tc.password)
		if got := s.ContainsHash(h); got != tc.want {
			t.Errorf("ContainsHash(sha256(%q)) = %v, want %v", tc.password, got, tc.want)
		}
		if got := s.ContainsHash(strings.ToUpper(h)); got != tc.want {
			t.Errorf("ContainsHash(upper-case sha256(%q)) = %v, want %v", tc.password, got, tc.want)
		}
	}
	if n := s.Len(); n < 10000 {
		t.Errorf("bundled set has %d hashes, want the zxcvbn list with capitalised forms (> 10000)", n)
	}
}

func TestContainsHashRejectsNonHashes(t *testing.T) {
	s := Bundled()
	for _, in := range []string{"", "password", sum("password")[:63], sum("password") + "0", "zz" + sum("password")[2:]} {
		if s.ContainsHash(in) {
			t.Errorf("ContainsHash(%q) = true", in)
		}
	}
	var nilSet *Set
	if nilSet.ContainsHash(sum("password")) || nilSet.Len() != 0 {
		t.Error("a nil set contains something")
	}
}

// TestBundledListsParse: every line of the bundled lists is what it looks
// like (no plaintext that reads as a hash, no stray blanks).
func TestBundledListsParse(t *testing.T) {
	for name, b := range map[string][]byte{"defaults.txt": defaults, "zxcvbn_passwords.txt": zxcvbnPasswords} {
		for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			switch {
			case line == "" && name == "defaults.txt":
			case strings.HasPrefix(line, "#"):
			case line == "", strings.TrimSpace(line) != line, strings.Contains(line, "\r"), isHex64(line):
				t.Errorf("%s:%d is not a plain password line", name, i+1)
			}
		}
	}
}

// TestZxcvbnListUpToDate: the committed zxcvbn_passwords.txt is the whole
// Passwords list of the zxcvbn-go module in go.mod, in order (run go generate
// in this directory after upgrading it).
func TestZxcvbnListUpToDate(t *testing.T) {
	want := frequency.Lists["Passwords"].List
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(zxcvbnPasswords), "\n"), "\n") {
		if !strings.HasPrefix(line, "#") {
			got = append(got, line)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("zxcvbn_passwords.txt has %d entries, the module %d: run go generate", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("zxcvbn_passwords.txt entry %d differs from the module's: run go generate", i+1)
		}
	}
}

func TestRead(t *testing.T) {
	const canary = "canary-weak-list-entry-4b1d"
	upperHash := strings.ToUpper(sum("from-upper-hash"))
	list := "\uFEFFfirst-after-bom\r\n" +
		"# a comment: " + canary + "-commented\r\n" +
		"   # an indented comment\n" +
		"\r\n" +
		"   \t \n" +
		sum("from-hash") + "\r\n" +
		"  " + upperHash + "  \n" +
		"plain-crlf\r\n" +
		"with inner spaces\n" +
		" leading-space\n" +
		sum("x")[:63] + "\n" + // 63 hex: a plaintext
		strings.Repeat("g", 64) + "\n" + // 64 non-hex: a plaintext
		"last-without-newline"
	s := New()
	n, err := s.Read(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Errorf("read %d entries, want 9", n)
	}
	tests := []struct {
		password string
		want     bool
	}{
		{"first-after-bom", true},
		{"\uFEFFfirst-after-bom", false},
		{"from-hash", true},
		{"from-upper-hash", true},
		{"plain-crlf", true},
		{"plain-crlf\r", false},
		{"with inner spaces", true},
		{" leading-space", true}, // verbatim
		{"leading-space", false},
		{sum("x")[:63], true},
		{strings.Repeat("g", 64), true},
		{"last-without-newline", true},
		{canary + "-commented", false},
		{"# a comment: " + canary + "-commented", false},
		{"", false}, // blank lines are no entries
		{"   \t ", false},
	}
	for _, tc := range tests {
		if got := s.ContainsHash(sum(tc.password)); got != tc.want {
			t.Errorf("after Read, contains %q = %v, want %v", tc.password, got, tc.want)
		}
	}
	if s.Len() != 9 {
		t.Errorf("Len = %d, want 9", s.Len())
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "weak.txt")
	os.WriteFile(good, []byte("# ours\r\nhunter2\r\n"+sum("s3cret")+"\r\n"), 0o600)
	s := New()
	n, err := s.ReadFile(good)
	if err != nil || n != 2 {
		t.Fatalf("ReadFile = %d, %v; want 2, nil", n, err)
	}
	if !s.ContainsHash(sum("hunter2")) || !s.ContainsHash(sum("s3cret")) {
		t.Error("entries of the file are missing")
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	const canary = "canary-in-a-bad-list-91f0"
	long := filepath.Join(dir, "long.txt")
	os.WriteFile(long, []byte("ok-entry\n"+canary+strings.Repeat("x", MaxLineBytes)+"\n"), 0o600)
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"missing", filepath.Join(dir, "nope.txt"), []string{filepath.Join(dir, "nope.txt"), "no such file"}},
		{"directory", dir, []string{dir, "is a directory"}},
		{"line too long", long, []string{long, "line 2 is longer than"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New().ReadFile(tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "ok-entry") {
				t.Errorf("error %q quotes the file's contents", err)
			}
		})
	}
}

// FuzzRead: any input reads without panicking, and an error never quotes it.
func FuzzRead(f *testing.F) {
	f.Add([]byte("password\r\n# c\n" + sum("a") + "\n\n"))
	f.Add([]byte("\uFEFF#\n \t\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New()
		n, err := s.Read(bytes.NewReader(b))
		if s.Len() > n || n > bytes.Count(b, []byte("\n"))+1 {
			t.Fatalf("%d entries, %d hashes from %d lines", n, s.Len(), bytes.Count(b, []byte("\n"))+1)
		}
		if err != nil && len(b) > 8 && strings.Contains(err.Error(), string(b)) {
			t.Fatalf("error quotes the input: %v", err)
		}
	})
}

// BenchmarkBundled is the start-up cost of the bundled set: parsing the
// embedded lists and hashing every entry.
func BenchmarkBundled(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if Bundled().Len() == 0 {
			b.Fatal("empty")
		}
	}
}
