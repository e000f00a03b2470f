/*
Copyright 2026 The Shortlink Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package redirect

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnGuard closes the redirect server's stalled connections: one that has not sent a whole
// request head within the header timeout (slow-loris), and one idle between requests for
// longer than the idle timeout. It does what http.Server's ReadHeaderTimeout and IdleTimeout
// do, but from one goroutine that sweeps every connection a few times a second, instead of
// setting and clearing a socket deadline (a runtime timer) two or three times per request:
// that was 3 % of a cached redirect's CPU, more than the handler's own lookup. The limits hold
// to within one sweep interval.
type ConnGuard struct {
	headerTicks, idleTicks int64
	interval               time.Duration

	tick  atomic.Int64 // sweeps so far: the guard's coarse clock
	mu    sync.Mutex
	conns map[*guardedConn]struct{}
}

// Phases of a guarded connection.
const (
	phaseHead   int32 = iota // waiting for (the rest of) a request head
	phaseActive              // a request is being answered
	phaseIdle                // between requests
)

// NewConnGuard returns a guard with the given limits, swept every interval.
func NewConnGuard(header, idle, interval time.Duration) *ConnGuard {
	ticks := func(d time.Duration) int64 { return int64((d + interval - 1) / interval) }
	return &ConnGuard{headerTicks: ticks(header), idleTicks: ticks(idle), interval: interval,
		conns: make(map[*guardedConn]struct{})}
}

// Guard sets srv's ConnState hook and returns ln wrapped: srv.Serve on that listener runs
// under the guard. srv should set neither ReadHeaderTimeout nor IdleTimeout.
func (g *ConnGuard) Guard(srv *http.Server, ln net.Listener) net.Listener {
	srv.ConnState = g.connState
	return guardedListener{Listener: ln, g: g}
}

// Run sweeps until ctx ends.
func (g *ConnGuard) Run(ctx context.Context) {
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.sweep(g.tick.Add(1))
		}
	}
}

func (g *ConnGuard) sweep(now int64) {
	var stalled []*guardedConn
	g.mu.Lock()
	for c := range g.conns {
		limit := g.idleTicks
		switch c.phase.Load() {
		case phaseActive:
			continue // the handler bounds its own time
		case phaseHead:
			limit = g.headerTicks
		}
		if now-c.since.Load() > limit {
			stalled = append(stalled, c)
		}
	}
	g.mu.Unlock()
	for _, c := range stalled {
		_ = c.Close() // the server's read fails, and it reports the connection closed
	}
}

func (g *ConnGuard) connState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*guardedConn)
	if !ok {
		return
	}
	switch state {
	case http.StateNew:
		c.enter(phaseHead)
		g.mu.Lock()
		g.conns[c] = struct{}{}
		g.mu.Unlock()
	case http.StateActive:
		c.enter(phaseActive)
	case http.StateIdle:
		c.enter(phaseIdle)
	case http.StateHijacked, http.StateClosed:
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
	}
}

type guardedListener struct {
	net.Listener
	g *ConnGuard
}

func (l guardedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardedConn{Conn: c, g: l.g}, nil
}

type guardedConn struct {
	net.Conn
	g     *ConnGuard
	phase atomic.Int32
	since atomic.Int64 // the guard's tick when the phase began
}

func (c *guardedConn) enter(phase int32) {
	c.since.Store(c.g.tick.Load())
	c.phase.Store(phase)
}

// Read notes the first bytes of a request on an idle connection: from then on its head must
// arrive within the header timeout.
func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.phase.Load() == phaseIdle {
		c.enter(phaseHead)
	}
	return n, err
}
