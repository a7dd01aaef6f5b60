package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// child is a process the harness started. Every child is registered so that
// an error, a panic or Ctrl-C still kills it: other engineers run their own
// redis-servers on this machine, so nothing may be killed by name, only by
// the PIDs recorded here.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	out  *lockedBuffer
}

var children = struct {
	sync.Mutex
	m map[int]*child
}{m: map[int]*child{}}

func startChild(name string, cmd *exec.Cmd) (*child, error) {
	out := &lockedBuffer{}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		cmd.Wait() //nolint:errcheck // the exit status of a killed child says nothing
		close(c.done)
	}()
	children.Lock()
	children.m[cmd.Process.Pid] = c
	children.Unlock()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the process has already ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop kills the process (SIGKILL: neither redis-server nor the exporter
// has anything to flush here) and waits for it.
func (c *child) stop() {
	c.cmd.Process.Kill() //nolint:errcheck
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "benchrun: %s (pid %d) did not exit after SIGKILL\n", c.name, c.pid())
	}
	children.Lock()
	delete(children.m, c.pid())
	children.Unlock()
}

// stopAll kills every child still running.
func stopAll() {
	children.Lock()
	var all []*child
	for _, c := range children.m {
		all = append(all, c)
	}
	children.Unlock()
	for _, c := range all {
		c.stop()
	}
}

// lockedBuffer collects a child's output, written while the harness reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ is 100
// on every Linux architecture the exporter is built for (sysconf(_SC_CLK_TCK)
// needs cgo, and the kernel ABI fixes it anyway).
const userHZ = 100

// procCPU returns the CPU time (user + system) a process has used so far.
// The resolution is 10 ms, so per-scrape figures are only meaningful over
// hundreds of scrapes.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses: the fields start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// procMem returns VmRSS (resident now) and VmHWM (peak resident) in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		*dst = kb * 1024
	}
	return rss, hwm, nil
}

// tcpConnsByRemote returns the established IPv4 TCP connections of process
// pid by remote address (ip:port): its socket descriptors
// (/proc/<pid>/fd) matched by inode with its network namespace's
// /proc/<pid>/net/tcp. Reading them sends nothing to the process nor to its
// peers.
func tcpConnsByRemote(pid int) (map[string]int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(dir + "/" + fd.Name())
		if err != nil {
			continue // closed meanwhile
		}
		if in, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(in, "]")] = true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[min(1, len(lines)):] { // the first line names the columns
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "01" || !inodes[f[9]] { // 01: TCP_ESTABLISHED
			continue
		}
		addr, err := procTCPAddr(f[2])
		if err != nil {
			return nil, err
		}
		out[addr]++
	}
	return out, nil
}

// procTCPAddr decodes an address of /proc/net/tcp, "0100007F:1F90": the
// IPv4 address is the 32-bit value in network order printed as a number of
// the host's byte order (little-endian on every architecture the harness
// runs on: amd64, arm64), then the port in hex.
func procTCPAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	v, err1 := strconv.ParseUint(ipHex, 16, 32)
	port, err2 := strconv.ParseUint(portHex, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("unexpected /proc/net/tcp address %q", s)
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", byte(v), byte(v>>8), byte(v>>16), byte(v>>24), port), nil
}
