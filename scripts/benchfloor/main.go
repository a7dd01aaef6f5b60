// Command benchfloor is the floor of the /probe benchmark: the least an
// exporter written in Go can cost per probe on the same machine. It serves
// /probe as the exporter does (net/http, one pooled go-redis connection per
// target, authenticated as the exporter's user), sends each probe the very
// commands the exporter sent in its steady state, in one pipeline, discards
// the replies, and answers with a fixed body, compressed once at start-up.
// Everything the exporter does besides (parsing, collectors, findings,
// exposition, compression of what changed) is what it adds to this floor.
//
// scripts/benchrun starts it after the exporter's measured /probe intervals,
// on the same schedule and targets (see probeFloor there), and, with
// -target, after the default config's measured /metrics scrapes, scraped as
// the exporter was (see metricsFloor); it is not part of the exporter.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

func main() {
	var (
		listen   = flag.String("web.listen-address", "127.0.0.1:9122", "address to serve /probe on")
		user     = flag.String("user", "", "ACL user the connections authenticate as")
		pwFile   = flag.String("password-file", "", "file with the user's password")
		cmdsFile = flag.String("commands", "", "JSON array of the commands a probe sends, each an array of arguments")
		bodyFile = flag.String("body", "", "the body every probe answers (text format, uncompressed)")
		target   = flag.String("target", "", "also serve /metrics, as the exporter with --redis.addr=<target> does (host:port)")
	)
	flag.Parse()
	if err := run(*listen, *user, *pwFile, *cmdsFile, *bodyFile, *target); err != nil {
		fmt.Fprintln(os.Stderr, "benchfloor:", err)
		os.Exit(1)
	}
}

func run(listen, user, pwFile, cmdsFile, bodyFile, metricsTarget string) error {
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(cmdsFile)
	if err != nil {
		return err
	}
	var cmds [][]string
	if err := json.Unmarshal(raw, &cmds); err != nil || len(cmds) == 0 {
		return fmt.Errorf("%s: want a JSON array of commands: %v", cmdsFile, err)
	}
	args := make([][]any, len(cmds))
	for i, c := range cmds {
		for _, a := range c {
			args[i] = append(args[i], a)
		}
	}
	text, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&body, gzip.BestSpeed)
	zw.Write(text)
	zw.Close()

	var (
		mu      sync.Mutex
		clients = map[string]*redis.Client{}
	)
	client := func(target string) *redis.Client {
		mu.Lock()
		defer mu.Unlock()
		c, ok := clients[target]
		if !ok {
			c = redis.NewClient(&redis.Options{Addr: target, Username: user, Password: strings.TrimSuffix(string(pw), "\n"),
				Protocol: 2, DisableIdentity: true, PoolSize: 1, MaxIdleConns: 1, PipelinePoolSize: -1,
				ReadBufferSize: 4 << 10, WriteBufferSize: 2 << 10}) // as the exporter's
			clients[target] = c
		}
		return c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	serve := func(w http.ResponseWriter, r *http.Request, target string) {
		ctx := context.Background()
		pipe := client(target).Pipeline()
		for _, a := range args {
			pipe.Do(ctx, a...)
		}
		var reply redis.Error // a command's error reply is a reply like any other
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil && !errors.As(err, &reply) {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			w.Write(body.Bytes())
			return
		}
		w.Write(text)
	}
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) { serve(w, r, r.URL.Query().Get("target")) })
	if metricsTarget != "" {
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { serve(w, r, metricsTarget) })
	}
	return http.ListenAndServe(listen, mux)
}
