package exporter

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
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
	creds Credentials
	// connect opens the TCP or unix connection.
	connect func(ctx context.Context, network, addr string) (net.Conn, error)
	// tls is nil for a plaintext target; tlsHost is the host the
	// certificate must name unless --tls.server-name says otherwise.
	tls     *ClientTLS
	tlsOn   bool
	tlsHost string

	// logger is the target's.
	logger log.Logger

	mu   sync.Mutex
	last tlsRecord
}

// tlsRecord is what the latest TLS handshake of the target showed.
type tlsRecord struct {
	at   time.Time
	leaf *x509.Certificate // the server's certificate, nil when none came
	// state is the negotiated session; nil when the handshake failed.
	state *tls.ConnectionState
}

// lastTLS returns the record of the latest handshake.
func (d *dialer) lastTLS() tlsRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

func (d *dialer) record(r tlsRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = r
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := d.connect(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.tlsOn {
		tc, err := d.handshake(ctx, conn)
		if err != nil {
			conn.Close()
			return failedConn{err: err}, nil
		}
		conn = tc
	}
	if d.creds == nil {
		return guardReplies(conn), nil
	}
	if err := d.auth(ctx, conn); err != nil {
		conn.Close()
		return failedConn{err: err}, nil
	}
	// From here on go-redis parses what the server sends: see replyguard.go.
	return guardReplies(conn), nil
}

// handshake runs the TLS handshake and records what it showed.
func (d *dialer) handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	hs := &handshake{}
	cfg, err := d.tls.config(d.tlsHost, hs)
	if err != nil {
		d.record(tlsRecord{at: time.Now()})
		return nil, fmt.Errorf("TLS configuration: %v", err)
	}
	tc := tls.Client(conn, cfg)
	err = tc.HandshakeContext(ctx)
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		hs.setLeaf(verr.UnverifiedCertificates)
	}
	leaf, missing := hs.result()
	if err != nil {
		d.record(tlsRecord{at: time.Now(), leaf: leaf})
		// %v, not %w: go-redis unwraps a connection's initialisation error
		// once before returning it, which would drop this context.
		err = fmt.Errorf("TLS handshake: %v", err)
		if missing {
			err = missingCertError{err}
		}
		return nil, err
	}
	state := tc.ConnectionState()
	d.record(tlsRecord{at: time.Now(), leaf: leaf, state: &state})
	if missing {
		// With TLS 1.3 the server checks the client certificate after the
		// client has finished its handshake: a refusal shows on the first
		// read. A server with tls-auth-clients optional accepts the
		// connection, and nothing is ever wrapped.
		return &hintConn{Conn: tc}, nil
	}
	return tc, nil
}

// missingCertError explains a TLS failure when the server asked for a client
// certificate and the exporter had none. It has no Unwrap on purpose: go-redis
// unwraps a connection's initialisation error once, which would drop the
// explanation.
type missingCertError struct{ err error }

func (e missingCertError) Error() string {
	return e.err.Error() + " (the server asked for a client certificate and none is configured: set --tls.cert-file and --tls.key-file, or tls-auth-clients optional on the server)"
}

// hintConn is a TLS connection on which the server asked for a client
// certificate the exporter did not have. Under TLS 1.3 the server refuses
// such a client after the client's side of the handshake is done: the
// refusal shows as an alert or a reset on the first read or write, and is
// explained as a missingCertError. Timeouts are left alone.
// Once the server has answered (tls-auth-clients optional), errors are no
// longer explained that way.
type hintConn struct {
	*tls.Conn
	answered atomic.Bool
}

func (c *hintConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.answered.Store(true)
	}
	return n, c.explain(err)
}

func (c *hintConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	return n, c.explain(err)
}

func (c *hintConn) explain(err error) error {
	var ne net.Error
	if err == nil || c.answered.Load() || (errors.As(err, &ne) && ne.Timeout()) {
		return err
	}
	return missingCertError{err}
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

func (d *dialer) auth(ctx context.Context, conn net.Conn) error {
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
	case user == "" && strings.HasPrefix(line, noPasswordReply):
		// The default user has no password any more (the server restarted
		// without requirepass, or ACL SETUSER default nopass): failing
		// here would report the server down and hide exactly the exposure
		// the exporter is there to show. Go on without AUTH, as a client
		// with no password does, unless the default user is also off
		// (the same reply): then nothing could be sent at all.
		if err := ping(conn); err != nil {
			return err
		}
		level.Warn(d.logger).Log("msg", "the server has no password for the default user, but the exporter has one: scraping without authentication (did the server lose its requirepass?)")
		return nil
	case strings.HasPrefix(line, "-"):
		return &AuthError{Reply: authReply(line[1:], user, password)}
	default:
		return errors.New("unexpected reply to AUTH")
	}
}

// noPasswordReply starts the answer of Redis 6+ and Valkey to a user-less
// AUTH when the default user has no password.
const noPasswordReply = "-ERR AUTH <password> called without any password configured"

// ping checks that an unauthenticated connection may send commands: a
// default user that is off answers NOAUTH.
func ping(conn net.Conn) error {
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return fmt.Errorf("sending PING: %w", err)
	}
	line, err := readLine(conn, 4096)
	switch {
	case err != nil:
		return fmt.Errorf("reading the PING reply: %w", err)
	case line == "+PONG":
		return nil
	case strings.HasPrefix(line, "-NOAUTH"):
		return &AuthError{Reply: "NOAUTH the default user has no password and is off: set --redis.user (and its password) to a user that is on"}
	case strings.HasPrefix(line, "-"):
		return &AuthError{Reply: authReply(line[1:], "", "")}
	default:
		return errors.New("unexpected reply to PING")
	}
}

// authReply is what an AUTH error may show of the server's reply. A server
// that does not know AUTH (renamed away, an old Sentinel) answers "ERR
// unknown command 'AUTH', with args beginning with: 'user' 'password'": the
// message is kept with what it quotes blanked out ('…'), and only when the
// rest holds neither the user nor the password, else only the error code is
// ("WRONGPASS", "ERR").
func authReply(reply, user, password string) string {
	code, msg, _ := strings.Cut(reply, " ")
	if strings.HasPrefix(msg, "unknown command") {
		return code + " unknown command AUTH (renamed or disabled on the server)"
	}
	reply = quoted.ReplaceAllString(reply, "'…'")
	rest := strings.ReplaceAll(reply, "'…'", "")
	if strings.ContainsAny(rest, "'\"`") || (password != "" && strings.Contains(rest, password)) || (user != "" && strings.Contains(rest, user)) {
		return code // an unpaired quote, or the credentials themselves
	}
	return reply
}

// quoted matches a quoted stretch of a server's error message.
var quoted = regexp.MustCompile("'[^']*'|`[^`]*`|\"[^\"]*\"")

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
