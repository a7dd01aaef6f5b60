package collector

import (
	"maps"
	"reflect"
	"strings"
	"testing"
)

func TestParseYesNo(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"yes", true, false},
		{"YES", true, false},
		{"no", false, false},
		{"No", false, false},
		{"", false, true},
		{"1", false, true}, // CONFIG GET prints booleans as yes/no only
		{"true", false, true},
	} {
		got, err := parseYesNo(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parseYesNo(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"0", 0, false},
		{"268435456", 268435456, false}, // what CONFIG GET returns
		{" 42 ", 42, false},
		// redis.conf units: k/m/g are powers of 1000, kb/mb/gb of 1024,
		// case-insensitive.
		{"1k", 1000, false},
		{"1kb", 1024, false},
		{"1K", 1000, false},
		{"1KB", 1024, false},
		{"2m", 2e6, false},
		{"2mb", 2 << 20, false},
		{"3g", 3e9, false},
		{"3gb", 3 << 30, false},
		{"3Gb", 3 << 30, false},
		{"100b", 100, false},
		{"9223372036854775807", 9223372036854775807, false},
		{"", 0, true},
		{"kb", 0, true},
		{"-1", 0, true},
		{"-1kb", 0, true},
		{"1.5mb", 0, true},
		{"1tb", 0, true},
		{"1 mb", 0, true},
		{"abc", 0, true},
		{"99999999999999999999", 0, true},
	} {
		got, err := parseMemory(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseMemory(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseInteger(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"0", 0, false},
		{"300", 300, false},
		{" 10000 ", 10000, false},
		{"-1", 0, true},
		{"1k", 0, true}, // no units for plain integers
		{"", 0, true},
	} {
		got, err := parseInteger(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseInteger(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseOctal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{"0", 0, false},
		{"770", 0o770, false}, // 504: CONFIG GET prints the octal digits
		{"0770", 0o770, false},
		{"700", 0o700, false},
		{"777", 0o777, false},
		{" 660 ", 0o660, false},
		{"7777", 0o7777, false},
		{"10000", 0, true}, // beyond every permission bit
		{"8", 0, true},     // not an octal digit
		{"778", 0, true},
		{"-1", 0, true},
		{"", 0, true},
		{"0x1ff", 0, true},
	} {
		got, err := parseOctal(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseOctal(%q) = %o, %v; want %o, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseOutputBufferLimits(t *testing.T) {
	defaults := []bufferLimit{
		{class: "normal"},
		{class: "replica", hard: 268435456, soft: 67108864, softS: 60},
		{class: "pubsub", hard: 33554432, soft: 8388608, softS: 60},
	}
	for _, tc := range []struct {
		name, in string
		want     []bufferLimit
		wantErr  bool
	}{
		// CONFIG GET prints the 6.x/7.x default with the old class name
		// "slave"; the label uses "replica".
		{"default", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", defaults, false},
		{"replica name and units", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60", defaults, false},
		{"upper-case class", "NORMAL 1 2 3", []bufferLimit{{class: "normal", hard: 1, soft: 2, softS: 3}}, false},
		{"extra spaces", "  pubsub  1  2  3 ", []bufferLimit{{class: "pubsub", hard: 1, soft: 2, softS: 3}}, false},
		{"empty", "", nil, false},
		{"incomplete group", "normal 0 0", nil, true},
		{"five fields", "normal 0 0 0 slave", nil, true},
		{"unknown class", "master 0 0 0", nil, true},
		{"bad hard limit", "normal x 0 0", nil, true},
		{"negative soft limit", "normal 0 -1 0", nil, true},
		{"unit on seconds", "normal 0 0 1k", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOutputBufferLimits(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMaxmemoryClients(t *testing.T) {
	for _, tc := range []struct {
		in        string
		maxmemory float64
		want      float64
		wantErr   bool
	}{
		{"0", 0, 0, false},
		{"1048576", 0, 1048576, false},
		{"1mb", 0, 1 << 20, false},
		{"10%", 1e9, 1e8, false},
		{" 5% ", 1000, 50, false},
		{"100%", 1000, 1000, false},
		{"0%", 1000, 0, false},
		{"10%", 0, 0, false}, // a share of unlimited memory is unlimited
		{"101%", 1000, 0, true},
		{"-5%", 1000, 0, true},
		{"%", 1000, 0, true},
		{"x%", 1000, 0, true},
		{"1.5%", 1000, 0, true},
		{"-1", 0, 0, true},
	} {
		got, err := parseMaxmemoryClients(tc.in, tc.maxmemory)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseMaxmemoryClients(%q, %v) = %v, %v; want %v, err %v", tc.in, tc.maxmemory, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPersistencePathSuspicious(t *testing.T) {
	for _, tc := range []struct {
		dir, file string
		want      bool
	}{
		// What Redis packages use.
		{"/var/lib/redis", "dump.rdb", false},
		{"/data", "dump.rdb", false},
		{"/var/lib/valkey", "dump.rdb", false},
		{"/tmp", "backup.rdb", false},
		// The classic CONFIG SET dir/dbfilename targets.
		{"/root/.ssh", "authorized_keys", true},
		{"/home/deploy/.ssh", "dump.rdb", true},
		{"/tmp/x/.ssh", "dump.rdb", true},
		{"/var/lib/redis", "authorized_keys2", true},
		{"/var/spool/cron", "root", true},
		{"/var/spool/cron/crontabs", "root", true},
		{"/etc/cron.d", "x", true},
		{"/etc", "dump.rdb", true},
		{"/etc/profile.d", "x.sh", true},
		{"/home/u", ".bashrc", true},
		{"/var/www/html", "shell.php", true},
		{"/var/www", "dump.rdb", true},
		{"/srv/app/public_html", "dump.rdb", true},
		{"/var/lib/redis", "x.PHP", true}, // case-insensitive
		{"/VAR/WWW/html", "dump.rdb", true},
		{"/usr/lib", "x.so", true},
		{"/tmp", "evil.so", true}, // MODULE LOAD payload
		{"/lib/x86_64-linux-gnu", "dump.rdb", true},
		{"/dev/shm", "dump.rdb", true},
		{"/etc/", "dump.rdb", true}, // trailing slash cleaned
		{"/var/lib/redis/../../../etc", "dump.rdb", true},
		// System prefixes match whole path elements only.
		{"/etcetera", "dump.rdb", false},
		{"/library/redis", "dump.rdb", false},
		{"/srv/binaries", "dump.rdb", false},
	} {
		if got := persistencePathSuspicious(tc.dir, tc.file); got != tc.want {
			t.Errorf("persistencePathSuspicious(%q, %q) = %v, want %v", tc.dir, tc.file, got, tc.want)
		}
	}
}

func TestParseTLSProtocols(t *testing.T) {
	set := func(ps ...string) map[string]bool {
		m := map[string]bool{}
		for _, p := range ps {
			m[p] = true
		}
		return m
	}
	for _, tc := range []struct {
		in      string
		want    map[string]bool
		wantErr bool
	}{
		{"", set("TLSv1.2", "TLSv1.3"), false}, // Redis's default
		{"   ", set("TLSv1.2", "TLSv1.3"), false},
		{"TLSv1.2", set("TLSv1.2"), false},
		{"tlsv1.3", set("TLSv1.3"), false},
		{"TLSv1 TLSv1.1", set("TLSv1", "TLSv1.1"), false},
		{"TLSv1.2  TLSv1.3", set("TLSv1.2", "TLSv1.3"), false},
		{"TLSv1.3 TLSv1.3", set("TLSv1.3"), false},
		{"SSLv3", nil, true},
		{"TLSv1.2 TLSv1.4", nil, true},
		{"TLSv1.2,TLSv1.3", nil, true},
	} {
		got, err := parseTLSProtocols(tc.in)
		if (err != nil) != tc.wantErr || !maps.Equal(got, tc.want) {
			t.Errorf("parseTLSProtocols(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCheckConfigParam(t *testing.T) {
	// CONFIG GET returns secrets in plaintext: globs that could match one
	// and the secret parameters themselves are refused.
	for _, name := range []string{
		"", "*", "tls-*", "*pass*", "port?", "[bp]ind", `bind\`, "bind port",
		"requirepass", "REQUIREPASS", "masterauth", "MasterAuth", "masteruser",
		"tls-key-file-pass", "tls-client-key-file-pass", "sentinel-pass", "sentinel-user",
		// Valkey 8 names masterauth/masteruser primaryauth/primaryuser
		// (the old names are aliases): same secrets.
		"primaryauth", "primaryuser",
		// Anything that mentions a password may hold one.
		"any-pass", "future-password-file", "PASSWORD",
	} {
		if err := checkConfigParam(name); err == nil {
			t.Errorf("checkConfigParam(%q) accepted", name)
		}
	}
	// Every parameter the collectors request must pass.
	for _, name := range append(configParams, "maxclients", "bind", "port", "tls-port", "protected-mode") {
		if err := checkConfigParam(name); err != nil {
			t.Errorf("checkConfigParam(%q): %v", name, err)
		}
	}
}

func TestPlanRefusesSecrets(t *testing.T) {
	p := NewPlan(Facts{})
	p.Config("port", "requirepass", "tls-*")
	if p.Err() == nil {
		t.Fatal("Plan.Err() = nil after requesting a secret and a glob")
	}
	for _, c := range p.Calls() {
		for _, a := range c.Args {
			if s := strings.ToLower(a.(string)); s == "requirepass" || strings.Contains(s, "*") {
				t.Errorf("call %v requests %q", c.Args, s)
			}
		}
	}
	// The refused names are quoted in the error (they are names, not values).
	if !strings.Contains(p.Err().Error(), "requirepass") {
		t.Errorf("error %q does not name the refused parameter", p.Err())
	}
}
