package exporter

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// AuthError is a refused AUTH: wrong password, unknown or disabled user.
type AuthError struct{ Reply string }

func (e *AuthError) Error() string { return "authentication failed: " + e.Reply }

// dialer connects and authenticates before go-redis's handshake. go-redis
// would either put the credentials in HELLO and, when they are wrong, retry
// with AUTH (two failures counted per attempt), or send HELLO first and AUTH
// afterwards (one NOAUTH counted per connection on a server that requires a
// password). Either would inflate the very counters this exporter reports, so
// the exporter sends exactly one AUTH itself, and go-redis's HELLO then finds
// the connection authenticated.
type dialer struct {
	creds     Credentials
	tlsConfig *tls.Config // nil: plaintext
}

func (d dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.tlsConfig != nil {
		tc := tls.Client(conn, d.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return failedConn{err: fmt.Errorf("TLS handshake: %w", err)}, nil
		}
		conn = tc
	}
	if d.creds == nil {
		return conn, nil
	}
	if err := d.auth(ctx, conn); err != nil {
		conn.Close()
		return failedConn{err: err}, nil
	}
	return conn, nil
}

// failedConn stands for a connection that was established but refused at
// the TLS or AUTH step. Returning an error from the dialer instead would trip
// go-redis's dial circuit breaker, whose background probe re-dials every
// second until it succeeds: a wrong password would then cost the server one
// failed AUTH per second, forever. A failedConn fails go-redis's handshake
// with the real error, and the next scrape tries once more.
type failedConn struct{ err error }

func (f failedConn) Read([]byte) (int, error)         { return 0, f.err }
func (f failedConn) Write([]byte) (int, error)        { return 0, f.err }
func (f failedConn) Close() error                     { return nil }
func (f failedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f failedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f failedConn) SetDeadline(time.Time) error      { return nil }
func (f failedConn) SetReadDeadline(time.Time) error  { return nil }
func (f failedConn) SetWriteDeadline(time.Time) error { return nil }

func (d dialer) auth(ctx context.Context, conn net.Conn) error {
	user, password, err := d.creds(ctx)
	if err != nil {
		return fmt.Errorf("reading credentials: %w", err)
	}
	if password == "" {
		return nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	defer conn.SetDeadline(time.Time{}) //nolint:errcheck // reset for go-redis, which sets its own

	args := []string{"AUTH", password}
	if user != "" {
		args = []string{"AUTH", user, password}
	}
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("sending AUTH: %w", err)
	}
	// AUTH answers one line: +OK or -ERROR. Read byte by byte so nothing
	// after it is consumed from the connection go-redis takes over.
	line, err := readLine(conn, 4096)
	if err != nil {
		return fmt.Errorf("reading the AUTH reply: %w", err)
	}
	switch {
	case line == "+OK":
		return nil
	case strings.HasPrefix(line, "-"):
		return &AuthError{Reply: line[1:]}
	default:
		return errors.New("unexpected reply to AUTH")
	}
}

// readLine reads up to CRLF without buffering beyond it.
func readLine(conn net.Conn, max int) (string, error) {
	r := bufio.NewReaderSize(oneByteReader{conn}, 16)
	var line []byte
	for len(line) < max {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' && len(line) > 0 && line[len(line)-1] == '\r' {
			return string(line[:len(line)-1]), nil
		}
		line = append(line, c)
	}
	return "", errors.New("reply line too long")
}

// oneByteReader hands out at most one byte per Read, so the bufio.Reader
// above never reads ahead.
type oneByteReader struct{ conn net.Conn }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.conn.Read(p)
}
