package exporter

import (
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	good := map[string]Address{
		"localhost:6379":         {Network: "tcp", Addr: "localhost:6379", Host: "localhost"},
		"10.0.0.5":               {Network: "tcp", Addr: "10.0.0.5:6379", Host: "10.0.0.5"},
		"redis://[::1]:7000":     {Network: "tcp", Addr: "[::1]:7000", Host: "::1"},
		"rediss://cache.local":   {Network: "tcp", Addr: "cache.local:6379", Host: "cache.local", TLS: true},
		"redis://h:1/0":          {Network: "tcp", Addr: "h:1", Host: "h"},
		"h:65535":                {Network: "tcp", Addr: "h:65535", Host: "h"},
		"unix:///run/redis.sock": {Network: "unix", Addr: "/run/redis.sock"},
	}
	for in, want := range good {
		if got, err := ParseAddress(in); err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	// Refused addresses; none of the errors may quote the secret.
	for _, in := range []string{
		"redis://user:hunter2@host:6379",
		"redis://:hunter2@host",
		"redis://host:6379?password=hunter2",
		"redis://host:6379#hunter2",
		"redis://host/hunter2",
		"unix://hunter2",
		"unix://hunter2/x?password=hunter2",
		"redis://:6379?hunter2",
		"http://hunter2:hunter2@host",
		"redis://host:6379/%zzhunter2",
		"hunter2://host:6379",
		"",
		"redis://127.0.0.1:99999",
		"h:0",
		"h:65536",
		"rediss://h:00000000000000000000000",
	} {
		_, err := ParseAddress(in)
		if err == nil {
			t.Errorf("ParseAddress(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseAddress(%q) error quotes the secret: %v", in, err)
		}
	}
}
