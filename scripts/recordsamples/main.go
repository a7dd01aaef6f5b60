// Command recordsamples records the exact RESP2 replies of a redis-server or
// valkey-server to the commands the exporter sends, in the scenario of
// ../shared/design/samples/README.md, into collector/testdata/samples/<name>/
// for the parser tests (collector/samples_test.go):
//
//	go run ./scripts/recordsamples -server /path/to/valkey-server \
//		-out collector/testdata/samples/valkey-9.1 -aclrule-out collector/internal/aclrule/testdata/valkey-9.1
//
// -only PREFIX writes only the files whose name starts with PREFIX (the
// server still runs the whole scenario): -only commandlog adds the COMMANDLOG
// replies of Valkey 8.1+ to an existing recording without touching its
// other files, whose ports and counters the tests name.
//
// The server runs on a free loopback port in a temporary directory and is
// stopped afterwards. Replies are read off a raw connection, so the files
// hold the server's bytes, not a client's re-encoding.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// scenario is the config of every recorded server (samples/README.md).
const scenario = `bind 127.0.0.1 -::1
rename-command FLUSHALL ""
rename-command DEBUG "DEBUG_b7c1"
user default on >s3cret-default ~* &* +@all
user alice on >password ~app:* -@all +get +set
user bob on nopass ~* +@all -@dangerous
user carol off >carolpw ~* +@all
user ops on >s3cret-default ~* &* +@all
`

// securityParams is the recorded multi-parameter CONFIG GET (bind is
// recorded on its own, as the earlier recordings did).
var securityParams = []string{"enable-protected-configs", "dbfilename", "unixsocket", "unixsocketperm",
	"maxclients", "timeout", "maxmemory", "port", "client-output-buffer-limit", "tls-port",
	"enable-module-command", "enable-debug-command", "protected-mode", "dir", "tls-protocols",
	"tls-auth-clients", "acllog-max-len", "tls-auth-clients-user"}

func main() {
	server := flag.String("server", "", "redis-server or valkey-server binary")
	out := flag.String("out", "", "directory for the collectors' .resp files (collector/testdata/samples/NAME)")
	aclruleOut := flag.String("aclrule-out", "", "directory for ACL DRYRUN and COMMAND INFO (collector/internal/aclrule/testdata/NAME)")
	only := flag.String("only", "", "write only the files whose name starts with this prefix")
	flag.Parse()
	if *server == "" || *out == "" || *aclruleOut == "" {
		fmt.Fprintln(os.Stderr, "usage: recordsamples -server BIN -out DIR -aclrule-out DIR")
		os.Exit(2)
	}
	if err := record(*server, *out, *aclruleOut, *only); err != nil {
		fmt.Fprintln(os.Stderr, "recordsamples:", err)
		os.Exit(1)
	}
}

func record(server, out, aclruleOut, only string) error {
	dir, err := os.MkdirTemp("", "recordsamples")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "server.conf")
	// dir is the Debian package's, as in the earlier recordings (save ""
	// and no AOF: nothing is written there).
	body := fmt.Sprintf("port %d\ndir /var/lib/redis\nsave \"\"\nappendonly no\nlogfile \"\"\n%s", port, scenario)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(server, conf)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	// Readiness from the server's log, not from a probe connection: every
	// connection is counted in the recorded INFO.
	if err := waitReady(stdout); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// The recording connection first, then the scenario's client, which
	// stays connected as alice: two connections received, CLIENT LIST
	// shows default then alice, as in the earlier recordings.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := roundTrip(c, r, true, "AUTH", "default", "s3cret-default"); err != nil {
		return err
	}
	// A raw connection: a client library may send commands of its own
	// (HELLO, CLIENT SETINFO ...) that would change the recorded counters.
	scen, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer scen.Close()
	if err := provoke(scen, bufio.NewReader(scen)); err != nil {
		return err
	}

	files := []struct {
		name string
		args []string
		// dir is out, or aclruleOut for the aclrule package's samples.
		aclrule bool
	}{
		{"info_all", []string{"INFO", "ALL"}, false},
		{"acl_list", []string{"ACL", "LIST"}, false},
		{"acl_log", []string{"ACL", "LOG", "128"}, false},
		{"client_list", []string{"CLIENT", "LIST", "TYPE", "normal"}, false},
		{"command_info", []string{"COMMAND", "INFO", "flushall", "config", "debug", "keys", "module", "eval"}, false},
		{"config_get_bind", []string{"CONFIG", "GET", "bind"}, false},
		{"config_get_security", append([]string{"CONFIG", "GET"}, securityParams...), false},
		{"command_info", []string{"COMMAND", "INFO", "flushall", "config", "debug", "keys", "module", "eval"}, true},
		{"acl_dryrun_alice_config", []string{"ACL", "DRYRUN", "alice", "CONFIG", "GET", "dir"}, true},
		{"acl_dryrun_bob_flushdb", []string{"ACL", "DRYRUN", "bob", "FLUSHDB"}, true},
		{"acl_dryrun_bob_get", []string{"ACL", "DRYRUN", "bob", "GET", "k"}, true},
		{"acl_dryrun_ops_flushall", []string{"ACL", "DRYRUN", "ops", "FLUSHALL"}, true},
	}
	for _, d := range []string{out, aclruleOut} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, f := range files {
		// ACL DRYRUN of a renamed command answers an error: that is the
		// sample.
		reply, err := roundTrip(c, r, !f.aclrule, f.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		dir := out
		if f.aclrule {
			dir = aclruleOut
		}
		if err := write(dir, f.name, reply, only); err != nil {
			return err
		}
	}
	return recordCommandLog(c, r, out, only)
}

func write(dir, name string, reply []byte, only string) error {
	if !strings.HasPrefix(name, only) {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, name+".resp"), reply, 0o644)
}

// commandLogParams are Valkey 8.1's COMMANDLOG settings.
var commandLogParams = []string{"commandlog-execution-slower-than", "commandlog-slow-execution-max-len",
	"commandlog-request-larger-than", "commandlog-large-request-max-len",
	"commandlog-reply-larger-than", "commandlog-large-reply-max-len"}

// recordCommandLog records COMMANDLOG on servers that have it (Valkey
// 8.1+; nothing is written elsewhere), after an entry of each type: a
// 2,000-byte SET over a 1,024-byte request threshold, the GET of it over
// the same reply threshold, and, with every command logged as slow, an
// AUTH (which the log shows redacted). The slow log is then switched off
// (threshold -1), so the recorded settings are not the defaults.
func recordCommandLog(c io.Writer, r *bufio.Reader, out, only string) error {
	if reply, err := roundTrip(c, r, false, "COMMANDLOG", "LEN", "slow"); err != nil {
		return err
	} else if reply[0] == '-' {
		return nil // no COMMANDLOG on this server
	}
	payload := strings.Repeat("a", 2000)
	steps := [][]string{
		{"CONFIG", "SET", "commandlog-request-larger-than", "1024", "commandlog-reply-larger-than", "1024"},
		{"SET", "app:payload", payload},
		{"GET", "app:payload"},
		{"CONFIG", "SET", "commandlog-execution-slower-than", "0"},
		{"AUTH", "default", "s3cret-default"},
		{"CONFIG", "SET", "commandlog-execution-slower-than", "-1"},
	}
	for _, st := range steps {
		if _, err := roundTrip(c, r, true, st...); err != nil {
			return fmt.Errorf("%s: %w", st[0], err) // never the arguments: a password
		}
	}
	type file struct {
		name string
		args []string
	}
	files := []file{{"commandlog_config", append([]string{"CONFIG", "GET"}, commandLogParams...)}}
	for _, t := range []string{"slow", "large-request", "large-reply"} {
		files = append(files, file{"commandlog_len_" + t, []string{"COMMANDLOG", "LEN", t}},
			file{"commandlog_get_" + t, []string{"COMMANDLOG", "GET", "128", t}})
	}
	for _, f := range files {
		reply, err := roundTrip(c, r, true, f.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := write(out, f.name, reply, only); err != nil {
			return err
		}
	}
	return nil
}

// provoke makes the ACL LOG and error stats of the scenario on one
// connection: PING before AUTH (NOAUTH), three failed AUTHs of an unknown
// user and one of alice, then alice authenticates and is denied a key and a
// command.
func provoke(w io.Writer, r *bufio.Reader) error {
	steps := []struct {
		args    []string
		wantOK  bool // the reply must not be an error
		wantErr bool
	}{
		{[]string{"PING"}, false, true},
		{[]string{"AUTH", "nobody", "wrong"}, false, true},
		{[]string{"AUTH", "nobody", "wrong"}, false, true},
		{[]string{"AUTH", "nobody", "wrong"}, false, true},
		{[]string{"AUTH", "alice", "nope"}, false, true},
		{[]string{"AUTH", "alice", "password"}, true, false},
		{[]string{"GET", "secret:1"}, false, true},
		{[]string{"CONFIG", "GET", "dir"}, false, true},
	}
	for _, st := range steps {
		reply, err := roundTrip(w, r, false, st.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", st.args[0], err)
		}
		isErr := len(reply) > 0 && reply[0] == '-'
		if (st.wantOK && isErr) || (st.wantErr && !isErr) {
			return fmt.Errorf("%s: unexpected reply %q", st.args[0], reply) // never the arguments: passwords
		}
	}
	return nil
}

// waitReady reads the server's log until it accepts connections.
func waitReady(log io.Reader) error {
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(log)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- nil
				_, _ = io.Copy(io.Discard, log)
				return
			}
		}
		ready <- errors.New("server exited before it was ready")
	}()
	select {
	case err := <-ready:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("server not ready after 10 s")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// roundTrip sends one command and returns the exact bytes of its reply.
func roundTrip(w io.Writer, r *bufio.Reader, refuseErrors bool, args ...string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return nil, err
	}
	var reply bytes.Buffer
	if err := readReply(r, &reply); err != nil {
		return nil, err
	}
	if refuseErrors && reply.Len() > 0 && reply.Bytes()[0] == '-' {
		return nil, fmt.Errorf("error reply %q", strings.TrimSpace(reply.String()))
	}
	return reply.Bytes(), nil
}

// readReply copies one RESP2 reply from r to out.
func readReply(r *bufio.Reader, out *bytes.Buffer) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	out.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	switch line[0] {
	case '$':
		if n < 0 {
			return nil
		}
		_, err := io.CopyN(out, r, int64(n)+2)
		return err
	case '*':
		for i := 0; i < n; i++ {
			if err := readReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}
