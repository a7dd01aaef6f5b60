package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
)

// Binary returns the path of redis-server. A missing server fails the test:
// in CI a skipped integration test would hide a broken set-up.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("REDIS_SERVER_BIN"); p != "" {
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (install Debian's redis-server, or run make test, which does): %v", err)
	}
	return p
}

// HasCommandLog reports whether the server binary bin has COMMANDLOG
// (Valkey 8.1+), from its --version ("Valkey server v=8.1.1 sha=...").
func HasCommandLog(tb testing.TB, bin string) bool {
	tb.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		tb.Fatalf("%s --version: %v", bin, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 3 || fields[0] != "Valkey" || !strings.HasPrefix(fields[2], "v=") {
		return false
	}
	v, err := redisinfo.ParseVersion(strings.TrimPrefix(fields[2], "v="))
	return err == nil && v.AtLeast(8, 1)
}

// Server is a redis-server process on loopback, stopped at the end of the test.
type Server struct {
	// Port is the plaintext port (0 when the config sets "port 0" or
	// Options.NoPlaintext is set).
	Port int
	// TLSPort is the TLS port (0: none).
	TLSPort int
	// TLS are the certificates of Options.TLS (nil without).
	TLS *TLSFiles
	// Dir is the server's working directory (a temp dir).
	Dir string
	// ConfigFile is the generated redis.conf.
	ConfigFile string
	// LogFile is the server's log.
	LogFile string

	tb     testing.TB
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
	opts   Options
}

// Restart stops the server and starts it again on the same port and
// directory with the same config (a new run_id).
func (s *Server) Restart() *Server {
	s.tb.Helper()
	s.Stop()
	o := s.opts
	o.Port, o.TLSPort, o.Dir = s.Port, s.TLSPort, s.Dir
	return StartWith(s.tb, o)
}

// Options adjust Start.
type Options struct {
	// Config is appended to the generated base config (port, dir, logfile,
	// no persistence, bind 127.0.0.1 unless Config sets bind).
	Config string
	// Port forces a port instead of a free one (restarts on the same port).
	Port int
	// Dir reuses a directory (restarts).
	Dir string
	// NoWait skips waiting for the TCP port and waits for the log's
	// "Ready to accept connections" only (servers without a plaintext
	// port; implied when the port is 0).
	NoWait bool
	// TLS, when set, loads these certificates (TLSFiles.ServerConfig) and
	// opens a TLS port, Server.TLSPort.
	TLS *TLSFiles
	// TLSPort forces the TLS port (restarts); 0 picks a free one.
	TLSPort int
	// NoPlaintext closes the plaintext port ("port 0"): a TLS-only server.
	NoPlaintext bool
	// Sentinel runs the server as a Sentinel (redis-server <conf>
	// --sentinel); Config must hold its "sentinel monitor" lines.
	Sentinel bool
}

// Start starts redis-server with the base config plus conf. On Valkey 8.1+
// the exporter's least-privileged rules in conf (collector.LeastPrivilegeRules)
// get collector.CommandLogRules too, as the README asks for those servers
// (older ones refuse them): a test writes the rules once for every server.
func Start(tb testing.TB, conf string) *Server {
	tb.Helper()
	return StartWith(tb, Options{Config: conf})
}

// StartWith starts redis-server with options.
func StartWith(tb testing.TB, o Options) *Server {
	tb.Helper()
	bin := Binary(tb)
	conf := o.Config
	if strings.Contains(conf, collector.LeastPrivilegeRules) && HasCommandLog(tb, bin) {
		conf = strings.ReplaceAll(conf, collector.LeastPrivilegeRules, collector.LeastPrivilegeRules+" "+collector.CommandLogRules)
	}
	dir := o.Dir
	if dir == "" {
		dir = tb.TempDir()
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := o.Port
		if port == 0 {
			port = pickPort(tb, o.Config)
		}
		if o.NoPlaintext {
			port = 0
		}
		s := &Server{Port: port, Dir: dir, ConfigFile: filepath.Join(dir, "redis.conf"), LogFile: filepath.Join(dir, "redis.log"), tb: tb, TLS: o.TLS}
		// No diskless-sync delay: a replica would otherwise wait 5 s for
		// its first full sync.
		base := fmt.Sprintf("port %d\ndir %s\nlogfile %s\nsave \"\"\nappendonly no\ndaemonize no\nrepl-diskless-sync-delay 0\n", port, dir, s.LogFile)
		if !hasDirective(o.Config, "bind") {
			base += "bind 127.0.0.1\n"
		}
		if o.TLS != nil {
			s.TLSPort = o.TLSPort
			if s.TLSPort == 0 {
				s.TLSPort = FreePort(tb)
			}
			base += fmt.Sprintf("tls-port %d\n%s", s.TLSPort, o.TLS.ServerConfig())
		}
		// Directives of the test's config override the base (the last one
		// wins in redis.conf): keep Port and TLSPort truthful.
		if v, ok := directive(o.Config, "port"); ok {
			s.Port, _ = strconv.Atoi(v)
		}
		if v, ok := directive(o.Config, "tls-port"); ok {
			s.TLSPort, _ = strconv.Atoi(v)
		}
		if err := os.WriteFile(s.ConfigFile, []byte(base+conf+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
		os.Remove(s.LogFile)
		args := []string{s.ConfigFile}
		if o.Sentinel {
			args = append(args, "--sentinel")
		}
		s.cmd = exec.Command(bin, args...)
		s.cmd.Dir = dir
		if err := s.cmd.Start(); err != nil {
			tb.Fatalf("starting redis-server: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- s.cmd.Wait() }()
		if err := s.waitReady(o, exited); err != nil {
			lastErr = err
			s.kill()
			if o.Port != 0 {
				break // the port was forced: retrying the same one is pointless
			}
			continue
		}
		s.exited = exited
		s.opts = o
		tb.Cleanup(s.Stop)
		return s
	}
	tb.Fatalf("redis-server did not start: %v", lastErr)
	return nil
}

func hasDirective(conf, name string) bool {
	_, ok := directive(conf, name)
	return ok
}

// directive returns the first argument of the last occurrence of a directive.
func directive(conf, name string) (string, bool) {
	var v string
	found := false
	for _, line := range strings.Split(conf, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.EqualFold(f[0], name) {
			found = true
			if len(f) > 1 {
				v = f[1]
			} else {
				v = ""
			}
		}
	}
	return v, found
}

func (s *Server) waitReady(o Options, exited chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(s.LogFile)
			return fmt.Errorf("redis-server exited (%v); log:\n%s", err, log)
		default:
		}
		if o.NoWait || s.Port == 0 {
			if ready(s.LogFile) {
				return nil
			}
		} else if c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond); err == nil {
			c.Close()
			// A Sentinel never logs "Ready to accept connections": its
			// listening port is the only sign.
			if o.Sentinel || ready(s.LogFile) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.LogFile)
	return fmt.Errorf("redis-server not ready after 10s; log:\n%s", log)
}

// ready reports whether the log says the server accepts connections: "Ready
// to accept connections" (7.2+ adds the transport), or "The server is now
// ready to accept connections at <socket>" when only a unix socket listens.
func ready(logFile string) bool {
	log, _ := os.ReadFile(logFile)
	return strings.Contains(strings.ToLower(string(log)), "ready to accept connections")
}

// Addr is 127.0.0.1:<port>.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Stop kills the server and waits for it to exit. Safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck
	if s.exited != nil {
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.tb.Errorf("redis-server pid %d did not exit", s.cmd.Process.Pid)
		}
	}
	s.cmd = nil
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill() //nolint:errcheck
	}
}

// Client returns a go-redis client for the test's own commands (not the
// exporter's), authenticated as user/password when given. A server without
// a plaintext port is reached over TLS with the client certificate.
func (s *Server) Client(user, password string) *redis.Client {
	if s.Port == 0 && s.TLS != nil {
		return s.TLSClient(user, password)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: user, Password: password, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// TLSAddr is 127.0.0.1:<tls-port>.
func (s *Server) TLSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.TLSPort)) }

// TLSClient returns a go-redis client connected to the TLS port with the
// client certificate of Options.TLS.
func (s *Server) TLSClient(user, password string) *redis.Client {
	s.tb.Helper()
	if s.TLS == nil || s.TLSPort == 0 {
		s.tb.Fatal("TLSClient: the server has no TLS port from Options.TLS")
	}
	c := redis.NewClient(&redis.Options{Addr: s.TLSAddr(), Username: user, Password: password, Protocol: 2, DisableIdentity: true, MaxRetries: -1,
		TLSConfig: s.TLS.ClientConfig(s.tb)})
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// Do runs one command as user/password and fails the test on error.
func (s *Server) Do(user, password string, args ...any) any {
	s.tb.Helper()
	c := s.Client(user, password)
	v, err := c.Do(context.Background(), args...).Result()
	if err != nil && err != redis.Nil {
		s.tb.Fatalf("%v: %v", args, err)
	}
	return v
}

// Identity returns the server's flavour and versions from INFO server, so
// that tests run against several servers (make compat, REDIS_SERVER_BIN)
// derive version-dependent expectations from the server, not from 7.0.
func (s *Server) Identity(user, password string) redisinfo.Server {
	s.tb.Helper()
	reply, ok := s.Do(user, password, "INFO", "server").(string)
	if !ok {
		s.tb.Fatalf("INFO server: not a string reply")
	}
	id, err := redisinfo.Parse(reply).Server()
	if err != nil {
		s.tb.Fatalf("INFO server: %v", err)
	}
	return id
}

// clusterBusOffset is how far above the client port a cluster node opens its
// bus when the config sets no cluster-port.
const clusterBusOffset = 10000

// pickPort returns a free port for a server with config conf. A cluster node
// also needs its bus port, port+10000, which must be free and exist: a
// collision makes redis-server exit, and StartWith retries with another.
func pickPort(tb testing.TB, conf string) int {
	tb.Helper()
	v, _ := directive(conf, "cluster-enabled")
	if !strings.EqualFold(v, "yes") || hasDirective(conf, "cluster-port") {
		return FreePort(tb)
	}
	for attempt := 0; attempt < 100; attempt++ {
		p := FreePort(tb)
		if p+clusterBusOffset > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+clusterBusOffset)))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	tb.Fatal("no free port with a free cluster bus port (port+10000)")
	return 0
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// AddUsers creates n ACL users (user0000, user0001, ...) with their own
// passwords and four kinds of rules in turn: +@all, +@all -@dangerous,
// -@all +get +set, and +@read +config|get. The benchmarks' "1000 ACL users"
// (BenchmarkScrape and scripts/benchrun) are these.
func AddUsers(ctx context.Context, c *redis.Client, n int) error {
	pipe := c.Pipeline()
	for i := 0; i < n; i++ {
		rules := []any{"ACL", "SETUSER", fmt.Sprintf("user%04d", i), "on", fmt.Sprintf(">pw-%d", i), fmt.Sprintf("~app%d:*", i)}
		switch i % 4 {
		case 0:
			rules = append(rules, "+@all")
		case 1:
			rules = append(rules, "+@all", "-@dangerous")
		case 2:
			rules = append(rules, "-@all", "+get", "+set")
		default:
			rules = append(rules, "+@read", "+config|get")
		}
		pipe.Do(ctx, rules...)
	}
	_, err := pipe.Exec(ctx)
	return err
}
