package exporter

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// Limits on what a server's replies may make the exporter allocate. go-redis
// allocates the length an array or bulk string header declares as soon as it
// reads the header, before any element arrives, and recurses once per
// nesting level. A server could therefore kill the exporter with a few bytes:
// "*4611686018427387904\r\n" panics in makeslice inside the
// scrape (the process exited when a goroutine ran it), "$2000000000"
// allocates 2 GB per connection, and a few MB of "*1\r\n" overflow the stack
// (a fatal error, not a panic). In multi-target mode the server is whatever
// answers at an allowed address, so every connection's replies are checked
// on the wire, before go-redis parses them.
const (
	// maxReplyBytes bounds what the replies to one batch of requests (one
	// pipelined round trip) may cost: bulk lengths, elementCost per
	// aggregate element, line lengths. The largest real reply, CLIENT LIST, takes
	// about 400 bytes per client (--clients.max skips it beyond 5000 by
	// default).
	maxReplyBytes = 64 << 20
	// maxReplyDepth bounds nesting; real replies nest 4 or 5 deep (COMMAND
	// INFO, CLUSTER SHARDS).
	maxReplyDepth = 32
	// maxReplyLine bounds one status, error or number line.
	maxReplyLine = 64 << 10
	// elementCost is what an aggregate element is charged.
	elementCost = 32
)

// errReplyLimit is returned by a guarded connection's Read once the server
// sent a reply beyond the limits; the connection is unusable after it.
type errReplyLimit struct{ what string }

func (e *errReplyLimit) Error() string {
	return "the server's reply exceeds the exporter's limits (" + e.what + "): a broken or hostile server"
}

// guardReplies wraps conn so that replies beyond the limits fail the read
// instead of reaching go-redis. A connection go-redis can health-check
// (syscall.Conn: plain TCP or unix) stays one, or stale pooled
// connections would no longer be noticed before use.
func guardReplies(conn net.Conn) net.Conn {
	g := &replyGuard{Conn: conn}
	g.budget = maxReplyBytes
	if sc, ok := conn.(syscall.Conn); ok {
		return &sysReplyGuard{replyGuard: g, sc: sc}
	}
	return g
}

type sysReplyGuard struct {
	*replyGuard
	sc syscall.Conn
}

// SyscallConn lets go-redis peek at the socket (MSG_PEEK: nothing is
// consumed, so the guard's view of the stream stays whole).
func (s *sysReplyGuard) SyscallConn() (syscall.RawConn, error) { return s.sc.SyscallConn() }

// replyGuard follows the RESP framing of everything read: it needs no
// buffering, only where the next header starts and how many elements each
// open aggregate still expects.
type replyGuard struct {
	net.Conn
	// newBatch is set by Write: the replies that follow answer new
	// requests and get a fresh budget.
	newBatch atomic.Bool

	mu     sync.Mutex // one reader at a time; Write only touches newBatch
	err    error      // sticky once a limit is hit
	budget int64

	phase phase
	typ   byte // the current header's type byte
	// the current line: its length, and for length headers the number.
	lineLen  int
	neg      bool
	num      int64
	digits   int
	sawCR    bool
	bulkLeft int64 // payload and CRLF still to skip
	// stack holds the elements each open aggregate still expects.
	stack []frame
}

type phase int

const (
	phaseType phase = iota // next byte is a type byte
	phaseLine              // inside a header or simple line
	phaseBulk              // inside a bulk payload
)

type frame struct {
	left int64
	// attr: a RESP3 attribute, which annotates the value after it and is
	// not an element of its parent.
	attr bool
}

func (g *replyGuard) Write(b []byte) (int, error) {
	g.newBatch.Store(true)
	return g.Conn.Write(b)
}

func (g *replyGuard) Read(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(b)
	if n > 0 {
		if g.newBatch.Swap(false) {
			g.budget = maxReplyBytes
		}
		if gerr := g.scan(b[:n]); gerr != nil {
			// None of this chunk reaches go-redis: its header is the one
			// that must not be parsed.
			g.err = gerr
			return 0, gerr
		}
	}
	return n, err
}

func (g *replyGuard) charge(n int64, what string) error {
	if n > g.budget {
		return &errReplyLimit{what: what}
	}
	g.budget -= n
	return nil
}

// scan advances the framing over b.
func (g *replyGuard) scan(b []byte) error {
	for len(b) > 0 {
		switch g.phase {
		case phaseBulk:
			k := min(int64(len(b)), g.bulkLeft)
			g.bulkLeft -= k
			b = b[k:]
			if g.bulkLeft == 0 {
				g.phase = phaseType
				g.elementDone()
			}
		case phaseType:
			switch c := b[0]; c {
			case '+', '-', ':', '_', ',', '#', '(', '$', '!', '=', '*', '~', '>', '%', '|':
				g.typ = c
			default:
				return &errReplyLimit{what: fmt.Sprintf("unknown reply type byte 0x%02x", c)}
			}
			g.phase = phaseLine
			g.lineLen, g.neg, g.num, g.digits, g.sawCR = 0, false, 0, 0, false
			b = b[1:]
		case phaseLine:
			c := b[0]
			b = b[1:]
			if g.lineLen++; g.lineLen > maxReplyLine {
				return &errReplyLimit{what: "a line longer than 64 KiB"}
			}
			if c == '\n' {
				g.phase = phaseType
				if err := g.lineDone(); err != nil {
					return err
				}
				continue
			}
			if !hasLength(g.typ) {
				continue
			}
			switch {
			case g.sawCR:
				return errors.New("malformed reply header")
			case c == '\r':
				g.sawCR = true
			case c == '-' && g.lineLen == 1:
				g.neg = true
			case c >= '0' && c <= '9':
				if g.digits++; g.digits > 12 {
					return &errReplyLimit{what: "a length of more than 12 digits"}
				}
				g.num = g.num*10 + int64(c-'0')
			default:
				return errors.New("malformed reply header")
			}
		}
	}
	return nil
}

func hasLength(typ byte) bool {
	switch typ {
	case '$', '!', '=', '*', '~', '>', '%', '|':
		return true
	}
	return false
}

// lineDone acts on a complete line: a simple value is an element, a bulk
// header starts a payload, an aggregate header opens a frame.
func (g *replyGuard) lineDone() error {
	if err := g.charge(int64(g.lineLen), "more than 64 MiB in one round trip"); err != nil {
		return err
	}
	if !hasLength(g.typ) {
		g.elementDone()
		return nil
	}
	if g.digits == 0 || g.neg && g.num != 1 {
		if g.digits == 0 {
			return errors.New("malformed reply header")
		}
		return errors.New("malformed reply length")
	}
	if g.neg { // -1: a null bulk string or aggregate
		g.elementDone()
		return nil
	}
	n := g.num
	switch g.typ {
	case '$', '!', '=':
		if err := g.charge(n, "more than 64 MiB in one round trip"); err != nil {
			return err
		}
		g.bulkLeft = n + 2 // the payload and its CRLF
		g.phase = phaseBulk
		return nil
	case '%', '|':
		n *= 2 // keys and values
	}
	if n == 0 {
		g.elementDone()
		return nil
	}
	if len(g.stack) >= maxReplyDepth {
		return &errReplyLimit{what: fmt.Sprintf("nested more than %d deep", maxReplyDepth)}
	}
	// go-redis allocates a slice (16 bytes an element) or, for the replies
	// it reads as maps (HELLO, CONFIG GET), a map (about twice that) of the
	// declared length at once.
	if n > g.budget/elementCost {
		return &errReplyLimit{what: "more than 64 MiB in one round trip"}
	}
	g.budget -= elementCost * n
	g.stack = append(g.stack, frame{left: n, attr: g.typ == '|'})
	return nil
}

// elementDone counts a complete value as an element of the aggregate it is
// in, closing every aggregate it completes.
func (g *replyGuard) elementDone() {
	for len(g.stack) > 0 {
		top := &g.stack[len(g.stack)-1]
		if top.left--; top.left > 0 {
			return
		}
		attr := top.attr
		g.stack = g.stack[:len(g.stack)-1]
		if attr {
			return
		}
	}
}
