package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// exporterProc is the exporter binary running as its own process, as in
// production: its CPU, allocations and RSS are its own, not mixed with the
// harness's.
type exporterProc struct {
	proc   *child
	url    string
	client *http.Client
	// noGzip asks for an uncompressed body (Accept-Encoding: identity).
	noGzip bool
}

func startExporter(bin, redisAddr string, extraArgs ...string) (*exporterProc, error) {
	// REDIS_PASSWORD, not a flag: the exporter has no password flag.
	return startExporterWith(bin, []string{"REDIS_PASSWORD=" + exporterPassword},
		append([]string{"--redis.addr=redis://" + redisAddr, "--redis.user=" + exporterUser}, extraArgs...)...)
}

// startExporterWith starts the exporter with env (besides PATH) and args
// (besides its listen address): --config.file runs have no --redis.addr.
func startExporterWith(bin string, env []string, args ...string) (*exporterProc, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, append([]string{fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}, args...)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		proc, err := startChild("exporter", cmd)
		if err != nil {
			return nil, err
		}
		e := &exporterProc{
			proc: proc,
			url:  fmt.Sprintf("http://127.0.0.1:%d", port),
			// One kept-alive connection, as Prometheus keeps one per target.
			client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}},
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && !proc.exited() {
			if resp, err := e.client.Get(e.url + "/-/healthy"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return e, nil
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		lastErr = fmt.Errorf("exporter did not start; output:\n%s", proc.out.String())
		proc.stop()
	}
	return nil, lastErr
}

func (e *exporterProc) stop() {
	e.client.CloseIdleConnections()
	e.proc.stop()
}

// scrape gets /metrics as Prometheus does (scrape timeout header, text
// format, gzip: the harness asks for gzip and decompresses the body after
// the timer, as the exporter compresses for Prometheus) and returns the
// client-side latency, request to the last byte of the body as sent.
func (e *exporterProc) scrape() (time.Duration, []byte, error) {
	d, body, err := e.get(e.client, "/metrics")
	if err != nil {
		return d, body, err
	}
	if v, ok := metricValue(body, "redis_security_up"); !ok || v != 1 {
		return d, body, errNotUp
	}
	return d, body, nil
}

// get requests path with client as Prometheus does and returns the
// latency and the body of a 200 answer.
func (e *exporterProc) get(client *http.Client, path string) (time.Duration, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
	// Set explicitly, so that Go's transport leaves the body compressed: the
	// latency ends with the exporter's last byte, and the harness decompresses
	// after it. Decompressing 800 KiB (1000 ACL users) costs the harness some
	// 2 ms of a core this machine shares with the exporter; that is the
	// scraper's work, not the exporter's.
	if e.noGzip {
		req.Header.Set("Accept-Encoding", "identity")
	} else {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, nil, err
	}
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return d, nil, fmt.Errorf("GET %s: gzip body: %w", path, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return d, nil, fmt.Errorf("GET %s: gzip body: %w", path, err)
		}
	}
	if resp.StatusCode != http.StatusOK {
		// Without the query: the report names a failure in one line.
		p, _, _ := strings.Cut(path, "?")
		return d, body, fmt.Errorf("GET %s: %s", p, resp.Status)
	}
	return d, body, nil
}

// metricValue returns the value of an unlabelled series in a text-format
// body.
func metricValue(body []byte, name string) (float64, bool) {
	prefix := []byte(name + " ")
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if rest, ok := bytes.CutPrefix(line, prefix); ok {
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
			return v, err == nil
		}
	}
	return 0, false
}
