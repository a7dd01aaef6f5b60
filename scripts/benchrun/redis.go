package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-security/redis_security_exporter/collector"
)

const (
	adminPassword    = "admin-pw"
	exporterUser     = "exporter"
	exporterPassword = "exporter-pw"
)

// redisServer is a redis-server process on loopback with a configuration
// of the scenario's. The default user (with a password) is the harness's
// admin; the exporter authenticates as the least-privileged user the README
// documents, as in production.
type redisServer struct {
	proc    *child
	addr    string
	dir     string
	logFile string
	admin   *redis.Client
}

// freePort returns a TCP port free on 127.0.0.1 right now (another process
// may take it before redis-server binds it: startRedis retries).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedis(bin, dir, extraConf string) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, logFile: filepath.Join(dir, "redis.log")}
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsave \"\"\nappendonly no\ndaemonize no\n"+
			"user default on >%s ~* &* +@all\nuser %s on >%s %s\n%s\n",
			port, dir, s.logFile, adminPassword, exporterUser, exporterPassword, collector.LeastPrivilegeRules, extraConf)
		confFile := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		os.Remove(s.logFile)
		cmd := exec.Command(bin, confFile)
		cmd.Dir = dir
		s.proc, err = startChild("redis-server", cmd)
		if err != nil {
			return nil, err
		}
		if lastErr = s.waitReady(); lastErr != nil {
			s.proc.stop()
			continue
		}
		s.admin = redis.NewClient(&redis.Options{Addr: s.addr, Password: adminPassword, Protocol: 2, DisableIdentity: true,
			MaxRetries: -1, PoolSize: 1, ReadTimeout: 30 * time.Second})
		return s, nil
	}
	return nil, fmt.Errorf("redis-server did not start: %w", lastErr)
}

func (s *redisServer) waitReady() error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.proc.exited() {
			log, _ := os.ReadFile(s.logFile)
			return fmt.Errorf("redis-server exited; log:\n%s%s", log, s.proc.out.String())
		}
		if c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond); err == nil {
			c.Close()
			if log, _ := os.ReadFile(s.logFile); strings.Contains(strings.ToLower(string(log)), "ready to accept connections") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.logFile)
	return fmt.Errorf("redis-server not ready after 10s; log:\n%s", log)
}

func (s *redisServer) stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	s.proc.stop()
}

// cmdStat is one command's INFO commandstats line.
type cmdStat struct {
	calls int64
	usec  float64
}

// exporterCommands are the commandstats entries of every command the
// exporter can send (the README's table): the server's time for a scrape is
// the sum of their usec deltas.
var exporterCommands = []string{"info", "config|get", "acl|list", "acl|log", "acl|dryrun", "command|info", "client|id", "client|list", "auth", "hello"}

// commandStats reads INFO commandstats. The harness's own INFO call is not
// in its own reply (Redis counts a command after it ran), but it is in the
// next one: see infoCost.
func (s *redisServer) commandStats(ctx context.Context) (map[string]cmdStat, error) {
	info, err := s.admin.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	return parseCommandStats(info), nil
}

// parseCommandStats reads the cmdstat_ lines of an INFO reply.
func parseCommandStats(info string) map[string]cmdStat {
	out := map[string]cmdStat{}
	for _, line := range strings.Split(info, "\r\n") {
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		var st cmdStat
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				st.calls, _ = strconv.ParseInt(v, 10, 64)
			case "usec":
				st.usec, _ = strconv.ParseFloat(v, 64)
			}
		}
		out[name] = st
	}
	return out
}

// infoCost returns the server time of one INFO commandstats from the
// harness, measured from two consecutive calls, so that the one in a delta
// can be subtracted.
func (s *redisServer) infoCost(ctx context.Context) (float64, map[string]cmdStat, error) {
	a, err := s.commandStats(ctx)
	if err != nil {
		return 0, nil, err
	}
	b, err := s.commandStats(ctx)
	if err != nil {
		return 0, nil, err
	}
	return b["info"].usec - a["info"].usec, b, nil
}

func (s *redisServer) infoField(ctx context.Context, section, field string) (int64, error) {
	info, err := s.admin.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO %s has no %s", section, field)
}

// fillACLLog makes n distinct ACL LOG entries: failed AUTHs for n different
// user names (Redis merges entries only when reason, context, object and
// user name are all equal).
func (s *redisServer) fillACLLog(ctx context.Context, n int) error {
	c := redis.NewClient(&redis.Options{Addr: s.addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	for i := 0; i < n; i++ {
		err := c.Do(ctx, "AUTH", fmt.Sprintf("bench-intruder-%03d", i), "wrong-password").Err()
		if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			return fmt.Errorf("AUTH bench-intruder-%03d: want WRONGPASS, got %v", i, err)
		}
	}
	entries, err := s.admin.Do(ctx, "ACL", "LOG", strconv.Itoa(2*n)).Slice()
	if err != nil {
		return err
	}
	if len(entries) != n {
		return fmt.Errorf("ACL LOG has %d entries, want %d", len(entries), n)
	}
	return nil
}

// holdClients opens n idle TCP connections to the server (nothing is sent
// on them: an idle pool is the common case) and waits until the server
// counts them. The caller closes them.
func (s *redisServer) holdClients(ctx context.Context, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	release := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	if firstErr != nil {
		release()
		return nil, fmt.Errorf("opening %d idle connections: %w (ulimit -n is too low?)", n, firstErr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.infoField(ctx, "clients", "connected_clients")
		if err != nil {
			release()
			return nil, err
		}
		if got >= int64(n) {
			return conns, nil
		}
		if time.Now().After(deadline) {
			release()
			return nil, fmt.Errorf("server counts %d connected clients, want at least %d (maxclients?)", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

var errNotUp = errors.New("redis_security_up is not 1")
