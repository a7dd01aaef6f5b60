package collector_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector"
)

// clientsServer answers the clients collector's commands like a server.
type clientsServer struct {
	info    string // INFO reply (connected_clients, run_id)
	tlsPort string // CONFIG tls-port ("" = parameter absent)
	ownID   int64
	normal  collector.Result
	replica collector.Result
	idErr   error
	// sent counts CLIENT LIST calls.
	sent int
}

func (s *clientsServer) answer(t *testing.T, c collector.Call) collector.Result {
	t.Helper()
	switch c.Name {
	case "info":
		return collector.Result{Value: s.info}
	case "config|get":
		if s.tlsPort == "" {
			return collector.Result{Value: []any{}}
		}
		return collector.Result{Value: []any{"tls-port", s.tlsPort}}
	case "client|id":
		if s.idErr != nil {
			return collector.Result{Err: s.idErr}
		}
		return collector.Result{Value: s.ownID}
	case "client|list":
		s.sent++
		if fmt.Sprint(c.Args) == "[CLIENT LIST TYPE replica]" {
			return s.replica
		}
		return s.normal
	}
	// Errorf, not Fatalf: a registry's Collect runs in its own goroutine.
	t.Errorf("unexpected call %v", c.Args)
	return collector.Result{Err: collector.ServerError("ERR unexpected")}
}

// scrapeClients runs one scrape of the clients collector the way the
// exporter does: plan, round trip, follow-up round when requested, scrape.
func scrapeClients(t *testing.T, c collector.Clients, st *collector.State, srv *clientsServer) (map[string]float64, error) {
	t.Helper()
	r := replay(t, c, st, collector.Facts{}, func(call collector.Call) collector.Result { return srv.answer(t, call) })
	return scrapeMap(t, c, r)
}

func clientsInfo(connected int, runID string) string {
	return fmt.Sprintf("# Server\r\nredis_version:7.0.15\r\nrun_id:%s\r\n# Clients\r\nconnected_clients:%d\r\n", runID, connected)
}

func checkMetrics(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, got[k])
		}
	}
}

// TestClientsOnSamples: the recorded CLIENT LIST TYPE normal of every version
// (the recorder's connection as default, then alice) with the recorder's as
// the exporter's own connection: only alice is counted.
func TestClientsOnSamples(t *testing.T) {
	for _, v := range sampleVersions {
		t.Run(v, func(t *testing.T) {
			srv := &clientsServer{
				info:    readSample(t, v, "info_all").Value.(string),
				tlsPort: "0",
				ownID:   firstClientID(t, readSample(t, v, "client_list")),
				normal:  readSample(t, v, "client_list"),
				replica: collector.Result{Value: ""},
			}
			got, err := scrapeClients(t, collector.Clients{Max: 5000}, collector.NewState(), srv)
			if err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, got, map[string]float64{
				`clients{network="loopback",transport="tcp",user="alice"}`: 1,
				"client_list_skipped": 0,
			})
		})
	}
}

func TestClientsCounts(t *testing.T) {
	list := strings.Join([]string{
		"id=10 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= flags=N user=default", // the exporter
		"id=11 addr=127.0.0.1:5001 laddr=127.0.0.1:6379 fd=9 name= flags=N user=default",
		"id=12 addr=127.0.0.2:5002 laddr=127.0.0.1:6379 fd=9 name= flags=N user=default",
		"id=13 addr=127.0.0.1:5003 laddr=127.0.0.1:6380 fd=9 name= flags=N user=app",
		"id=14 addr=/tmp/r.sock:0 laddr=/tmp/r.sock fd=9 name= flags=U user=app",
		"id=15 addr=10.0.0.7:5004 laddr=10.0.0.1:6380 fd=9 name= flags=N user=app",
		"id=16 addr=203.0.113.5:5005 laddr=10.0.0.1:6379 fd=9 name=x flags=N user=u\xff",
		"id=17 addr=203.0.113.6:5006 laddr=10.0.0.1:6379 fd=9 name=x flags=N user=\"u\\xff\"",
	}, "\n") + "\n"
	srv := &clientsServer{
		info:    clientsInfo(8, "r1"),
		tlsPort: "6380",
		ownID:   10,
		normal:  collector.Result{Value: list},
		replica: collector.Result{Value: "id=20 addr=10.0.0.9:6000 laddr=10.0.0.1:6379 fd=12 name= flags=S user=repl\n"},
	}
	got, err := scrapeClients(t, collector.Clients{Max: 5000}, collector.NewState(), srv)
	if err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, got, map[string]float64{
		`clients{network="loopback",transport="tcp",user="default"}`:            2,
		`clients{network="loopback",transport="tls",user="app"}`:                1,
		`clients{network="loopback",transport="unix",user="app"}`:               1,
		`clients{network="private",transport="tls",user="app"}`:                 1,
		`clients{network="public",transport="tcp",user="\"u\\xff\""}`:           1,
		`clients{network="public",transport="tcp",user="\"\\\"u\\\\xff\\\"\""}`: 1,
		`replica_clients{network="private",transport="tcp",user="repl"}`:        1,
		"client_list_skipped": 0,
	})
	// The registry accepts every label (valid UTF-8, no duplicates).
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(clientsCollector{t: t, c: collector.Clients{Max: 5000}, srv: srv})
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

// clientsCollector is a prometheus.Collector scraping srv with a fresh state.
type clientsCollector struct {
	t   *testing.T
	c   collector.Clients
	srv *clientsServer
}

func (c clientsCollector) Describe(ch chan<- *prometheus.Desc) { c.c.Describe(ch) }
func (c clientsCollector) Collect(ch chan<- prometheus.Metric) {
	r := replay(c.t, c.c, collector.NewState(), collector.Facts{}, func(call collector.Call) collector.Result { return c.srv.answer(c.t, call) })
	c.c.Scrape(r, func(m prometheus.Metric) { ch <- m }, log.NewNopLogger()) //nolint:errcheck // the registry checks the metrics
}

// TestClientsCostGuard: the first scrape decides from its own INFO in a
// follow-up round; later scrapes from the previous scrape's INFO, in the main
// round. Above Max, CLIENT LIST is never sent and client_list_skipped is 1.
func TestClientsCostGuard(t *testing.T) {
	c := collector.Clients{Max: 3}
	st := collector.NewState()
	srv := &clientsServer{
		info: clientsInfo(10, "r1"), tlsPort: "0", ownID: 1,
		normal:  collector.Result{Value: "id=1 addr=127.0.0.1:1 laddr=127.0.0.1:6379 flags=N user=default\n"},
		replica: collector.Result{Value: ""},
	}
	for i := 0; i < 2; i++ {
		got, err := scrapeClients(t, c, st, srv)
		if err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, got, map[string]float64{"client_list_skipped": 1})
	}
	if srv.sent != 0 {
		t.Fatalf("CLIENT LIST sent %d times above the limit", srv.sent)
	}
	// Below the limit again: this scrape's INFO lifts the guard at once,
	// through the follow-up round.
	srv.info = clientsInfo(2, "r1")
	got, err := scrapeClients(t, c, st, srv)
	if err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, got, map[string]float64{"client_list_skipped": 0})
	if srv.sent != 2 {
		t.Errorf("CLIENT LIST sent %d times, want 2 (normal and replica)", srv.sent)
	}
	// The main plan now carries it.
	p := collector.NewPlan(collector.Facts{})
	p.UseState(st)
	c.Plan(p)
	var names []string
	for _, call := range p.Calls() {
		names = append(names, fmt.Sprint(call.Args))
	}
	if s := strings.Join(names, " "); !strings.Contains(s, "[CLIENT LIST TYPE normal]") || !strings.Contains(s, "[CLIENT ID]") {
		t.Errorf("plan after a scrape below the limit: %s", s)
	}
	// 0 means no limit.
	srv.info, srv.sent = clientsInfo(100000, "r1"), 0
	if _, err := scrapeClients(t, collector.Clients{Max: 0}, collector.NewState(), srv); err != nil || srv.sent != 2 {
		t.Errorf("Max 0: sent %d, err %v", srv.sent, err)
	}
}

// TestClientsEveryN: with EveryN 3 the list is read every third scrape, the
// counts repeated in between, and read again at once after a restart.
func TestClientsEveryN(t *testing.T) {
	c := collector.Clients{Max: 100, EveryN: 3}
	st := collector.NewState()
	srv := &clientsServer{
		info: clientsInfo(2, "r1"), tlsPort: "0", ownID: 1,
		normal:  collector.Result{Value: "id=1 addr=127.0.0.1:1 laddr=127.0.0.1:6379 flags=N user=default\nid=2 addr=127.0.0.1:2 laddr=127.0.0.1:6379 flags=N user=default\n"},
		replica: collector.Result{Value: ""},
	}
	want := map[string]float64{`clients{network="loopback",transport="tcp",user="default"}`: 1, "client_list_skipped": 0}
	var sent []int
	for i := 0; i < 7; i++ {
		if i == 5 {
			srv.info = clientsInfo(2, "r2") // restarted
		}
		got, err := scrapeClients(t, c, st, srv)
		if err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, got, want)
		sent = append(sent, srv.sent/2)
	}
	// Listed on scrapes 1, 4, 6 (restart) and not on 7.
	if fmt.Sprint(sent) != "[1 1 1 2 2 3 3]" {
		t.Errorf("cumulative listings per scrape %v", sent)
	}
}

// TestClientsErrors: without CLIENT ID the own connection cannot be excluded,
// and a malformed list is an error: no counts rather than wrong ones.
func TestClientsErrors(t *testing.T) {
	good := collector.Result{Value: "id=1 addr=127.0.0.1:1 laddr=127.0.0.1:6379 flags=N user=default\n"}
	for name, srv := range map[string]*clientsServer{
		"CLIENT ID denied":   {idErr: collector.ServerError("NOPERM User exporter has no permissions to run the 'client|id' command"), normal: good},
		"CLIENT LIST denied": {normal: collector.Result{Err: collector.ServerError("NOPERM no")}},
		"malformed list":     {normal: collector.Result{Value: "addr=1.2.3.4:5\n"}},
		"list not a string":  {normal: collector.Result{Value: int64(5)}},
		"bad tls-port":       {tlsPort: "x", normal: good},
	} {
		t.Run(name, func(t *testing.T) {
			srv.info, srv.ownID = clientsInfo(1, "r1"), 1
			if srv.tlsPort == "" {
				srv.tlsPort = "0"
			}
			if srv.replica.Value == nil && srv.replica.Err == nil {
				srv.replica = collector.Result{Value: ""}
			}
			got, err := scrapeClients(t, collector.Clients{Max: 10}, collector.NewState(), srv)
			if err == nil {
				t.Error("no error")
			}
			checkMetrics(t, got, map[string]float64{"client_list_skipped": 0})
			if name == "CLIENT ID denied" && !errors.As(err, new(collector.ServerError)) {
				t.Errorf("error %v does not carry the denial", err)
			}
		})
	}
	// No INFO at all: nothing is sent, and the collector says why.
	srv := &clientsServer{info: "-ERR", tlsPort: "0"}
	if _, err := scrapeClients(t, collector.Clients{Max: 10}, collector.NewState(), srv); err == nil || srv.sent != 0 {
		t.Errorf("without INFO: sent %d, err %v", srv.sent, err)
	}
}

// FuzzClients: whatever CLIENT LIST returns, the collector's metrics are
// accepted by a registry (label values valid, no duplicate series).
func FuzzClients(f *testing.F) {
	for _, v := range sampleVersions {
		f.Add(readSample(f, v, "client_list").Value.(string), "id=9 addr=10.0.0.1:1 laddr=10.0.0.2:6379 flags=S user=r\n", int64(3))
	}
	f.Add("id=1 addr=[::1]:1 laddr=[::1]:6380 flags=N user=\xff\nid=2 addr=/s:0 flags=U user=\"\xff\"\n", "", int64(2))
	f.Fuzz(func(t *testing.T, normal, replica string, ownID int64) {
		srv := &clientsServer{
			info: clientsInfo(1, "r1"), tlsPort: "6380", ownID: ownID,
			normal: collector.Result{Value: normal}, replica: collector.Result{Value: replica},
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(clientsCollector{t: t, c: collector.Clients{Max: 10}, srv: srv})
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	})
}

// firstClientID is the id of the first client of a CLIENT LIST reply.
func firstClientID(t *testing.T, r collector.Result) int64 {
	t.Helper()
	s, _ := r.Value.(string)
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatal("empty CLIENT LIST sample")
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(f[0], "id="), 10, 64)
	if err != nil {
		t.Fatalf("CLIENT LIST sample: %v", err)
	}
	return id
}
