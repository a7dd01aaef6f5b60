package probe_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/probe"
)

func TestReloader(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("modules:\n  a:\n    allowed_targets: [\"127.0.0.1:1\"]\n")
	r, err := probe.NewReloader(path, defaults(nil), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Prober().Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r)
	gauge := func() string {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "redis_security_exporter_config_last_reload_successful" {
				return mf.GetMetric()[0].GetGauge().String()
			}
		}
		return "missing"
	}
	if g := gauge(); g != "value:1" {
		t.Errorf("after start: %s", g)
	}

	for _, bad := range []string{
		"modules:\n  a:\n    allowed_targets: [\"127.0.0.1:1\"\n",                                      // broken YAML
		"modules:\n  a:\n    password_file: /nonexistent/pw\n    allowed_targets: [\"127.0.0.1:1\"]\n", // missing file
		"modules:\n  a:\n    collectors: {nope: true}\n    allowed_targets: [\"127.0.0.1:1\"]\n",       // unknown collector
	} {
		write(bad)
		if err := r.Reload(); err == nil {
			t.Errorf("reload of %q succeeded", bad)
		}
		if g := gauge(); g != "value:0" {
			t.Errorf("after a failed reload: %s", g)
		}
		if _, ok := r.Prober().Modules()["a"]; !ok || len(r.Prober().Modules()) != 1 {
			t.Error("a failed reload must keep the previous modules")
		}
	}
	write("modules:\n  b:\n    allowed_targets: [\"127.0.0.1:1\"]\n")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != 200 || gauge() != "value:1" {
		t.Errorf("POST /-/reload: %d, gauge %s", rec.Code, gauge())
	}
	if _, ok := r.Prober().Modules()["b"]; !ok {
		t.Error("the reload did not apply")
	}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET /-/reload: %d %v", rec.Code, rec.Header())
	}
}
