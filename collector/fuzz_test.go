package collector_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
	"github.com/redis-security/redis_security_exporter/collector/internal/redisinfo"
	"github.com/redis-security/redis_security_exporter/collector/redistest"
)

func sampleBytes(tb testing.TB, version, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, version, name+".resp"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzScrapers feeds arbitrary RESP2 replies for INFO, CONFIG GET, ACL LIST,
// ACL LOG and COMMANDLOG (GET and LEN get the same reply) through NewReplies and every scraper, as the exporter would. A server
// (or anyone who can set a user name, a dir or a module name on it) chooses
// these bytes: no input may panic a scraper or produce a metric the
// registry refuses.
func FuzzScrapers(f *testing.F) {
	for _, v := range sampleVersions {
		config := sampleBytes(f, v, "config_get_security")
		if v != "redis-6.2" {
			sec := readSample(f, v, "config_get_security").Value.([]any)
			bind := readSample(f, v, "config_get_bind").Value.([]any)
			all := append(append([]any{}, sec...), bind...)
			if v == "valkey-8.1" || v == "valkey-9.1" {
				all = append(all, readSample(f, v, "commandlog_config").Value.([]any)...)
			}
			config = redistest.EncodeRESP2(all)
		}
		commandLog := []byte("*0\r\n")
		if v == "valkey-8.1" || v == "valkey-9.1" {
			commandLog = sampleBytes(f, v, "commandlog_get_slow")
		}
		f.Add(sampleBytes(f, v, "info_all"), config, sampleBytes(f, v, "acl_list"), sampleBytes(f, v, "acl_log"), commandLog)
	}
	// A replica with modules, an open default user and odd config values.
	f.Add(redistest.EncodeRESP2("# Server\r\nredis_version:6.2.1\r\nredis_mode:standalone\r\n# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n# Modules\r\nmodule:name=x,ver=1\r\nmodule:name=x,ver=1\r\n# Errorstats\r\n"),
		redistest.EncodeRESP2([]any{"bind", "", "port", "6379", "protected-mode", "no", "unixsocket", "/tmp/s", "unixsocketperm", "777",
			"maxmemory-clients", "10%", "maxmemory", "1gb", "tls-protocols", "TLSv1", "dir", "/root/.ssh", "dbfilename", "authorized_keys"}),
		redistest.EncodeRESP2([]any{"user default on nopass ~* &* +@all", "user (x on nopass (~a +get)"}),
		[]byte("*1\r\n*4\r\n$5\r\ncount\r\n:3\r\n$6\r\nreason\r\n$4\r\nauth\r\n"), []byte(":-1\r\n"))
	f.Add([]byte("-NOPERM no\r\n"), []byte("-NOPERM no\r\n"), []byte("*-1\r\n"), []byte("-NOPERM no\r\n"), []byte("-NOPERM no\r\n"))

	f.Fuzz(func(t *testing.T, infoB, configB, aclB, aclLogB, commandLogB []byte) {
		info, err1 := redistest.ParseRESP2(infoB)
		config, err2 := redistest.ParseRESP2(configB)
		acl, err3 := redistest.ParseRESP2(aclB)
		aclLog, err4 := redistest.ParseRESP2(aclLogB)
		commandLog, err5 := redistest.ParseRESP2(commandLogB)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
			return // not a reply go-redis would hand over
		}
		facts := collector.Facts{}
		if s, ok := info.Value.(string); ok {
			if srv, err := redisinfo.Parse(s).Server(); err == nil {
				facts = collector.Facts{Known: true, Server: srv}
			}
		}
		p := collector.NewPlan(facts)
		for _, s := range scrapers() {
			s.Plan(p)
		}
		calls := p.Calls()
		results := make([]collector.Result, len(calls))
		for i, c := range calls {
			switch c.Name {
			case "info":
				results[i] = info
			case "config|get":
				results[i] = config
			case "acl|list":
				results[i] = acl
			case "acl|log":
				results[i] = aclLog
			case "commandlog|get", "commandlog|len":
				results[i] = commandLog
			default:
				t.Fatalf("unexpected call %v", c.Args)
			}
		}
		r, err := collector.NewReplies(p, calls, results)
		if err != nil {
			t.Fatal(err)
		}
		r.DeniedCommands()

		reg := newTestCollector(r, scrapers()...).registry(t)
		if _, err := reg.Gather(); err != nil {
			t.Fatalf("gather: %v", err)
		}
	})
}
