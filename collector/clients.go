package collector

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redis-security/redis_security_exporter/collector/internal/clientlist"
)

var (
	clientsDesc = newDesc("clients",
		"Client connections of type normal (CLIENT LIST TYPE normal) by transport (tcp/tls/unix), peer network (loopback/private/public) and ACL user; the exporter's own connection is excluded.",
		"transport", "network", "user")
	replicaClientsDesc = newDesc("replica_clients",
		"Replicas connected to this server (CLIENT LIST TYPE replica) by transport (tcp/tls/unix), peer network and ACL user: a replica on tcp receives the whole dataset unencrypted.",
		"transport", "network", "user")
	clientListSkippedDesc = newDesc("client_list_skipped",
		"1 when CLIENT LIST was not sent because the server had more clients than --clients.max (CLIENT LIST is O(clients) and blocks the server); the clients metrics are then absent.")
)

// DefaultClientsMax is the default of --clients.max.
const DefaultClientsMax = 5000

var (
	clientIDArgs          = []string{"CLIENT", "ID"}
	clientListNormalArgs  = []string{"CLIENT", "LIST", "TYPE", "normal"}
	clientListReplicaArgs = []string{"CLIENT", "LIST", "TYPE", "replica"}
)

// Clients reports who is connected, aggregated by transport, network and
// user, from CLIENT LIST. CLIENT LIST costs server time in proportion to the
// number of clients and blocks the server meanwhile (several milliseconds at
// 10,000 clients: BENCHMARKS.md), so it is skipped when the previous scrape
// saw more than Max connected clients, and can be limited to every EveryN-th
// scrape.
type Clients struct {
	// Max skips CLIENT LIST when the server had more connected clients;
	// 0 means no limit.
	Max int
	// EveryN lists the clients only every EveryN-th scrape (<= 1: every
	// scrape); in between, the last listing's counts are reported again.
	EveryN int
}

// clientDecision is what the clients collector decided for this scrape.
type clientDecision int

const (
	// clientsUnknown: the number of clients is not known (first scrape,
	// INFO failed): FollowUp decides from this scrape's INFO.
	clientsUnknown clientDecision = iota
	clientsList
	clientsSkipped // over Max
	clientsCached  // not due (EveryN)
)

// clientsState is the clients collector's memory of a target.
type clientsState struct {
	// connected is INFO connected_clients of the last scrape (-1: unknown).
	connected int
	decision  clientDecision
	// sinceList counts the scrapes since the last listing.
	sinceList int
	// last is the last listing's counts, reported again while not due;
	// lastRunID is the run_id it was taken on.
	last      *clientCounts
	lastRunID string
}

func newClientsState() *clientsState { return &clientsState{connected: -1} }

type clientKey struct{ transport, network, user string }

type clientCounts struct {
	normal, replicas map[clientKey]int
}

// Name implements Scraper.
func (Clients) Name() string { return "clients" }

// Help implements Scraper.
func (Clients) Help() string {
	return "Collect the connected clients by transport, network and user from CLIENT LIST (skipped above --clients.max clients); needs CLIENT LIST and CLIENT ID."
}

// Describe implements Scraper.
func (Clients) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{clientsDesc, replicaClientsDesc, clientListSkippedDesc} {
		ch <- d
	}
}

func (c Clients) overMax(connected int) bool { return c.Max > 0 && connected > c.Max }

func (c Clients) due(s *clientsState) bool {
	return c.EveryN <= 1 || s.last == nil || s.sinceList+1 >= c.EveryN
}

func planClientList(p *Plan) {
	p.Command(clientIDArgs...)
	p.Command(clientListNormalArgs...)
	p.Command(clientListReplicaArgs...)
}

// Plan implements Scraper. The cost guard uses the previous scrape's
// connected_clients: this scrape's INFO is in the same round trip.
func (c Clients) Plan(p *Plan) {
	s := p.State().clients
	p.Config("tls-port")
	switch {
	case s.connected < 0:
		s.decision = clientsUnknown
	case c.overMax(s.connected):
		s.decision = clientsSkipped
	case !c.due(s):
		s.decision = clientsCached
	default:
		s.decision = clientsList
		planClientList(p)
	}
}

// FollowUp implements FollowUpPlanner. When the plan could not decide (no
// earlier INFO) or this scrape's INFO reveals that the guard no longer
// applies or that the server restarted (the cached counts are gone), CLIENT
// LIST goes out in the follow-up round, guarded by this scrape's INFO.
func (c Clients) FollowUp(r *Replies, p *Plan) {
	s := r.State().clients
	if r.Requested(clientListNormalArgs...) {
		return
	}
	connected, ok := connectedClients(r)
	if !ok {
		return
	}
	if c.overMax(connected) {
		s.decision = clientsSkipped
		return
	}
	restarted := s.last != nil && s.lastRunID != r.Facts().Server.RunID
	if s.decision == clientsCached && !restarted {
		return
	}
	s.decision = clientsList
	planClientList(p)
}

func connectedClients(r *Replies) (int, bool) {
	in, err := r.Info()
	if err != nil {
		return 0, false
	}
	v, ok := in.Get("connected_clients")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Scrape implements Scraper.
func (c Clients) Scrape(r *Replies, send Send, logger log.Logger) error {
	e := r.emitter(send)
	s := r.State().clients
	if n, ok := connectedClients(r); ok {
		s.connected = n
	}
	if !r.Requested(clientListNormalArgs...) {
		s.sinceList++
		switch {
		case s.decision == clientsSkipped:
			s.last = nil
			level.Debug(logger).Log("msg", "CLIENT LIST skipped: more connected clients than --clients.max", "connected_clients", s.connected, "max", c.Max)
			e.gauge(clientListSkippedDesc, 1)
			return nil
		case s.decision == clientsCached && s.last != nil:
			e.gauge(clientListSkippedDesc, 0)
			emitClientCounts(e, s.last)
			return nil
		default:
			return errors.New("CLIENT LIST not sent: the number of connected clients is unknown (no INFO connected_clients)")
		}
	}
	e.gauge(clientListSkippedDesc, 0)
	counts, err := c.count(r)
	if err != nil {
		s.last = nil
		return err
	}
	s.last, s.lastRunID, s.sinceList = counts, r.Facts().Server.RunID, 0
	emitClientCounts(e, counts)
	return nil
}

func (c Clients) count(r *Replies) (*clientCounts, error) {
	tlsPort := 0
	if v, ok, err := r.Config("tls-port"); err != nil {
		return nil, err
	} else if ok {
		if tlsPort, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("CONFIG tls-port %q is not a port number", v)
		}
	}
	idReply, err := r.Command(clientIDArgs...)
	if err != nil {
		return nil, fmt.Errorf("the exporter's own connection cannot be excluded: %w", err)
	}
	ownID, ok := idReply.(int64)
	if !ok {
		return nil, fmt.Errorf("CLIENT ID: unexpected reply type %T", idReply)
	}
	out := &clientCounts{}
	for _, list := range []struct {
		args []string
		dst  *map[clientKey]int
	}{{clientListNormalArgs, &out.normal}, {clientListReplicaArgs, &out.replicas}} {
		v, err := r.Command(list.args...)
		if err != nil {
			return nil, err
		}
		clients, err := clientlist.Parse(v)
		if err != nil {
			return nil, err
		}
		m := map[clientKey]int{}
		for _, cl := range clients {
			if cl.ID == ownID {
				continue
			}
			m[clientKey{cl.Transport(tlsPort), cl.Network(), cl.User}]++
		}
		*list.dst = m
	}
	return out, nil
}

func emitClientCounts(e emitter, c *clientCounts) {
	for _, m := range []struct {
		d      *prometheus.Desc
		counts map[clientKey]int
	}{{clientsDesc, c.normal}, {replicaClientsDesc, c.replicas}} {
		keys := make([]clientKey, 0, len(m.counts))
		for k := range m.counts {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b clientKey) int {
			return cmp.Or(strings.Compare(a.transport, b.transport), strings.Compare(a.network, b.network), strings.Compare(a.user, b.user))
		})
		for _, k := range keys {
			// gauge makes the user label safe (non-UTF-8 names quoted,
			// one-to-one, so two users never share a series).
			e.gauge(m.d, float64(m.counts[k]), k.transport, k.network, k.user)
		}
	}
}
