package probe_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/config"
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
	// A password written where its variable's name belongs is quoted
	// nowhere: not in the error, not in the answer to POST /-/reload.
	write("modules:\n  a:\n    password_env: Hunter2Canary\n    allowed_targets: [\"127.0.0.1:1\"]\n")
	if err := r.Reload(); err == nil || strings.Contains(err.Error(), "Hunter2Canary") {
		t.Errorf("reload with an unset password_env: %v", err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "Hunter2Canary") || strings.Contains(rec.Body.String(), path) {
		t.Errorf("POST /-/reload of a bad config: %d %s", rec.Code, rec.Body.String())
	}
	w, err := probe.CheckModules(mustParse(t, "modules:\n  a:\n    password_env: Hunter2Canary\n    allowed_targets: [\"127.0.0.1:1\"]\n"), defaults(nil))
	if err != nil || len(w) != 1 || strings.Contains(w[0], "Hunter2Canary") {
		t.Errorf("--config.check: warnings %q, err %v", w, err)
	}

	write("modules:\n  b:\n    allowed_targets: [\"127.0.0.1:1\"]\n")
	rec = httptest.NewRecorder()
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

func mustParse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
