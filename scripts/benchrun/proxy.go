package main

import (
	"net"
	"sync"
	"sync/atomic"
)

// countingProxy forwards TCP connections to a Redis server and counts round
// trips: a round trip starts whenever the client (the exporter) sends data
// after the server has answered, or first on a new connection. A pipeline
// of any length is one round trip; the connection handshake (HELLO, AUTH)
// counts as the round trips it takes. This holds because the exporter reads
// the whole reply before it writes again; a request so large that the
// server starts answering before the client has finished writing would be
// counted twice, which the exporter's requests (a few hundred bytes) never
// are.
type countingProxy struct {
	ln       net.Listener
	upstream string

	roundTrips atomic.Int64
	conns      atomic.Int64 // connections accepted (the exporter's dials)
	toServer   atomic.Int64 // bytes
	toClient   atomic.Int64 // bytes

	// request is what the client sent in the last round trip.
	reqMu   sync.Mutex
	request []byte

	wg     sync.WaitGroup
	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
}

func newCountingProxy(upstream string) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, upstream: upstream, open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *countingProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.open[c] = struct{}{}
	return true
}

func (p *countingProxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	// serverSpoke is true when the last data forwarded went to the client
	// (and at the start, so the first request counts).
	var serverSpoke atomic.Bool
	serverSpoke.Store(true)
	done := make(chan struct{}, 2)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				p.reqMu.Lock()
				if serverSpoke.Swap(false) {
					p.roundTrips.Add(1)
					p.request = p.request[:0]
				}
				p.request = append(p.request, buf[:n]...)
				p.reqMu.Unlock()
				p.toServer.Add(int64(n))
				if _, werr := server.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				// Set before forwarding: the client can only send its next
				// request after it got this reply, and must see it counted.
				serverSpoke.Store(true)
				p.toClient.Add(int64(n))
				if _, werr := client.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}()
	<-done
	// Either side closing ends both directions.
	client.Close()
	server.Close()
	<-done
	p.mu.Lock()
	delete(p.open, client)
	delete(p.open, server)
	p.mu.Unlock()
}

// lastRequest returns what the client sent in the last round trip.
func (p *countingProxy) lastRequest() []byte {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	return append([]byte(nil), p.request...)
}

func (p *countingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
