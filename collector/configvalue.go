package collector

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// parseYesNo parses a boolean CONFIG value.
func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither yes nor no", v)
}

// parseMemory parses a CONFIG memory value. CONFIG GET returns plain bytes,
// but unit suffixes as in redis.conf (1k = 1000, 1kb = 1024) are accepted too.
func parseMemory(v string) (float64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a memory size", v)
	}
	return float64(n) * mult, nil
}

// parseInteger parses a non-negative integer CONFIG value.
func parseInteger(v string) (float64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", v)
	}
	return float64(n), nil
}

// parseOctal parses unixsocketperm ("770" or "0770").
func parseOctal(v string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal permission", v)
	}
	return uint32(n), nil
}

// bufferLimit is one class of client-output-buffer-limit.
type bufferLimit struct {
	class             string // normal, replica or pubsub
	hard, soft, softS float64
}

// parseOutputBufferLimits parses
// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60".
func parseOutputBufferLimits(v string) ([]bufferLimit, error) {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return nil, fmt.Errorf("client-output-buffer-limit: %d fields, want groups of 4", len(f))
	}
	var out []bufferLimit
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		switch class {
		case "slave", "replica":
			class = "replica"
		case "normal", "pubsub":
		default:
			return nil, fmt.Errorf("client-output-buffer-limit: unknown class %q", f[i])
		}
		hard, err1 := parseMemory(f[i+1])
		soft, err2 := parseMemory(f[i+2])
		secs, err3 := parseInteger(f[i+3])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("client-output-buffer-limit: class %s has a malformed limit", class)
		}
		out = append(out, bufferLimit{class: class, hard: hard, soft: soft, softS: secs})
	}
	return out, nil
}

// parseMaxmemoryClients parses maxmemory-clients: bytes, or a percentage of
// maxmemory ("10%"); a percentage of an unlimited maxmemory is unlimited (0).
func parseMaxmemoryClients(v string, maxmemory float64) (float64, error) {
	if p, ok := strings.CutSuffix(strings.TrimSpace(v), "%"); ok {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > 100 {
			return 0, fmt.Errorf("%q is not a percentage", v)
		}
		return float64(n) / 100 * maxmemory, nil
	}
	return parseMemory(v)
}

// suspiciousPathParts are fragments of dir/dbfilename used by the classic
// "CONFIG SET dir + dbfilename + SAVE" attack to write a file an attacker can
// execute: SSH keys, cron jobs, shell start-up files, web roots, web shells
// and shared libraries (for MODULE LOAD).
var suspiciousPathParts = []string{
	".ssh", "authorized_keys", "/etc", "cron", "/var/www", "/srv/www", "/usr/share/nginx",
	"htdocs", "public_html", "wwwroot", "/root", ".bashrc", ".bash_profile", ".profile",
	"/boot", "/proc", "/sys", "/dev/shm", "/lib", "/usr/lib", "/bin", "/sbin", "/usr/bin",
	"/usr/sbin", "init.d", "systemd",
}

// suspiciousExtensions are file name endings that a database dump never needs.
var suspiciousExtensions = []string{".php", ".phtml", ".jsp", ".jspx", ".asp", ".aspx", ".cgi", ".pl", ".py", ".sh", ".so", ".ko", ".html", ".htm", ".js"}

// persistencePathSuspicious reports whether dir or dbfilename point at a
// place an attacker would write to.
func persistencePathSuspicious(dir, dbfilename string) bool {
	full := strings.ToLower(path.Clean(path.Join(dir, dbfilename)))
	dirLower := strings.ToLower(path.Clean(dir))
	for _, part := range suspiciousPathParts {
		if strings.HasPrefix(part, "/") {
			// Absolute system locations: match as a path prefix of dir.
			if dirLower == part || strings.HasPrefix(dirLower, part+"/") {
				return true
			}
			continue
		}
		if strings.Contains(full, part) {
			return true
		}
	}
	base := strings.ToLower(path.Base(dbfilename))
	for _, ext := range suspiciousExtensions {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	// Start-up and credential files written as a dump.
	switch base {
	case "root", "crontab", "passwd", "shadow", "sudoers", "authorized_keys", "authorized_keys2", "known_hosts", "id_rsa", "id_ed25519":
		return true
	}
	return false
}
