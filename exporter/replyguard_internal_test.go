package exporter

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guardFeed runs the guard's framing over stream in chunks of size chunk.
func guardFeed(stream []byte, chunk int) error {
	g := &replyGuard{budget: maxReplyBytes}
	for len(stream) > 0 {
		k := min(chunk, len(stream))
		if err := g.scan(stream[:k]); err != nil {
			return err
		}
		stream = stream[k:]
	}
	if g.phase != phaseType || len(g.stack) != 0 {
		return errors.New("the stream ended inside a reply")
	}
	return nil
}

// TestReplyGuardPassesRealReplies: every recorded reply of every server
// version, back to back as in a pipeline, passes in any chunking.
func TestReplyGuardPassesRealReplies(t *testing.T) {
	files, err := filepath.Glob("../collector/testdata/samples/*/*.resp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := guardFeed(b, len(b)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		all.Write(b)
	}
	// RESP3 shapes go-redis reads too: map, set, attribute, null, double,
	// boolean, big number, verbatim and blob error.
	all.WriteString("%2\r\n+a\r\n:1\r\n$1\r\nb\r\n*2\r\n_\r\n,1.5\r\n~1\r\n#t\r\n|1\r\n+k\r\n+v\r\n(123\r\n=7\r\ntxt:abc\r\n!3\r\nERR\r\n*-1\r\n$-1\r\n*0\r\n")
	for _, chunk := range []int{1, 2, 7, 4096, all.Len()} {
		if err := guardFeed(all.Bytes(), chunk); err != nil {
			t.Errorf("chunks of %d: %v", chunk, err)
		}
	}
}

// TestReplyGuardRefuses: headers that would make go-redis allocate, recurse
// or buffer without bound are refused before go-redis sees them.
func TestReplyGuardRefuses(t *testing.T) {
	for name, stream := range map[string]string{
		"array too long for makeslice": "*4611686018427387904\r\n",
		"array of 100M elements":       "*100000000\r\n",
		"map of 50M pairs":             "%50000000\r\n",
		"bulk of 2 GB":                 "$2000000000\r\n",
		"bulks beyond the budget":      strings.Repeat("$40000000\r\n"+strings.Repeat("x", 40000000)+"\r\n", 2),
		"nested arrays":                strings.Repeat("*3000000\r\n", 3),
		"deep nesting":                 strings.Repeat("*1\r\n", 100000),
		"endless line":                 "+" + strings.Repeat("a", 100000),
		"unknown type":                 "?1\r\n",
		"bad length":                   "*1x\r\n",
		"negative length":              "$-2\r\n",
	} {
		if err := guardFeed([]byte(stream), 4096); err == nil {
			t.Errorf("%s: passed", name)
		}
	}
	// A new batch of requests gets a fresh budget: the same 40 MB reply
	// twice, each after its own request, passes.
	g := &replyGuard{budget: maxReplyBytes}
	reply := []byte("$40000000\r\n" + strings.Repeat("x", 40000000) + "\r\n")
	for i := 0; i < 2; i++ {
		g.newBatch.Store(true)
		if g.newBatch.Swap(false) {
			g.budget = maxReplyBytes
		}
		if err := g.scan(reply); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}

func FuzzReplyGuard(f *testing.F) {
	for _, s := range []string{"*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n*-1\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		if chunk < 1 {
			chunk = 1
		}
		g := &replyGuard{budget: maxReplyBytes}
		for len(b) > 0 {
			k := min(chunk, len(b))
			if g.scan(b[:k]) != nil {
				return
			}
			b = b[k:]
		}
		if len(g.stack) > maxReplyDepth || g.budget < 0 {
			t.Fatalf("depth %d, budget %d", len(g.stack), g.budget)
		}
	})
}
