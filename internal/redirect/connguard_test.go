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
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// The guard's limits in ticks, for the tests that sweep by hand: a request head gets 2 ticks,
// an idle connection 10, so a closing tells which limit applied.
const (
	testHeaderTicks = 2
	testIdleTicks   = 10
)

// guardedServer serves h on loopback under a guard whose clock the test moves by hand.
func guardedServer(t *testing.T, h http.Handler) (*ConnGuard, string) {
	t.Helper()
	g := NewConnGuard(testHeaderTicks*time.Second, testIdleTicks*time.Second, time.Second)
	return g, serveGuarded(t, g, h)
}

// serveGuarded serves h on loopback under g and returns the address.
func serveGuarded(t *testing.T, g *ConnGuard, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h} //nolint:gosec // the guard is what sets the timeouts
	go func() { _ = srv.Serve(g.Guard(srv, ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// dial connects and waits until the guard watches the connection in the given phase.
func dial(t *testing.T, g *ConnGuard, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	waitPhase(t, g, phaseHead)
	return c
}

// waitPhase waits until the guard's only connection is in phase.
func waitPhase(t *testing.T, g *ConnGuard, phase int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		n, in := len(g.conns), false
		for c := range g.conns {
			in = c.phase.Load() == phase
		}
		g.mu.Unlock()
		if n == 1 && in {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for one connection in phase %d (have %d)", phase, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watched returns how many connections g watches.
func watched(g *ConnGuard) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// sweepAt moves the guard's clock to tick and sweeps.
func sweepAt(g *ConnGuard, tick int64) {
	g.tick.Store(tick)
	g.sweep(tick)
}

// roundTrip sends one request on c and reads its answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: sho.rt\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d", resp.StatusCode)
	}
}

// assertOpen checks that the server has not closed c: a short read times out rather than
// ending. The server closes synchronously within the sweep, so on loopback the end of a
// closed connection is visible long before the read times out.
func assertOpen(t *testing.T, c net.Conn, when string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: read = %v, want the connection still open", when, err)
	}
	_ = c.SetReadDeadline(time.Time{})
}

func assertClosed(t *testing.T, c net.Conn, when string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("%s: read = %d, %v; want the connection closed", when, n, err)
	}
}

func TestConnGuardClosesASilentConnectionAfterTheHeaderLimit(t *testing.T) {
	t.Parallel()
	g, addr := guardedServer(t, http.HandlerFunc(noContent))
	c := dial(t, g, addr)
	sweepAt(g, testHeaderTicks)
	assertOpen(t, c, "at the header limit")
	sweepAt(g, testHeaderTicks+1)
	assertClosed(t, c, "past the header limit")
}

func TestConnGuardClosesASlowHeadOnAKeptAliveConnection(t *testing.T) {
	t.Parallel()
	g, addr := guardedServer(t, http.HandlerFunc(noContent))
	c := dial(t, g, addr)
	br := bufio.NewReader(c)
	roundTrip(t, c, br)
	waitPhase(t, g, phaseIdle)
	g.tick.Store(5)
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\n"); err != nil { // and no more
		t.Fatal(err)
	}
	waitPhase(t, g, phaseHead)
	sweepAt(g, 5+testHeaderTicks)
	assertOpen(t, c, "at the header limit")
	sweepAt(g, 5+testHeaderTicks+1) // well inside the idle limit
	assertClosed(t, c, "past the header limit")
}

func TestConnGuardClosesAnIdleConnectionAfterTheIdleLimit(t *testing.T) {
	t.Parallel()
	g, addr := guardedServer(t, http.HandlerFunc(noContent))
	c := dial(t, g, addr)
	br := bufio.NewReader(c)
	g.tick.Store(1)
	roundTrip(t, c, br)
	waitPhase(t, g, phaseIdle)
	sweepAt(g, 1+testIdleTicks)
	assertOpen(t, c, "at the idle limit")
	roundTrip(t, c, br) // a request restarts the idle clock
	waitPhase(t, g, phaseIdle)
	sweepAt(g, 2+testIdleTicks)
	assertOpen(t, c, "one tick after a new request")
	sweepAt(g, 2+2*testIdleTicks)
	assertClosed(t, c, "past the idle limit")
	deadline := time.Now().Add(30 * time.Second)
	for watched(g) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection is still watched")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A request being answered is the handler's to bound: the guard never cuts it.
func TestConnGuardLeavesARequestBeingAnswered(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	g, addr := guardedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		noContent(w, r)
	}))
	c := dial(t, g, addr)
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: sho.rt\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, g, phaseActive)
	sweepAt(g, 100*testIdleTicks)
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the answer after a sweep: %v", err)
	}
	_ = resp.Body.Close()
}

// Run sweeps on its own: with real intervals, a silent connection is closed.
func TestConnGuardRunSweeps(t *testing.T) {
	t.Parallel()
	g := NewConnGuard(50*time.Millisecond, time.Minute, 10*time.Millisecond)
	addr := serveGuarded(t, g, http.HandlerFunc(noContent))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go g.Run(ctx)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	assertClosed(t, c, "a silent connection under Run")
}
