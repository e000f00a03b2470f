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

package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// load sends GET requests for codes to one address (the redirector Service's ClusterIP) and
// counts what came back, without ever retrying: net/http's Transport resends an idempotent
// request on a keep-alive connection that closed under it, so the server could count a visit
// the client never saw. Each worker writes raw HTTP/1.1 on its own connection, and opens a new
// connection every perConn requests, so replicas that appear get traffic.
//
// A request fails when its answer is not a 3xx, or when its connection breaks or times out
// while it is in flight. A keep-alive connection the server closed while idle (the next request
// reads nothing at all on a reused connection) is not a failure: the worker reconnects and
// sends again, which is what a browser does.
type load struct {
	addr, host string
	codes      []string
	pace       time.Duration // between one worker's requests

	stop      chan struct{}
	paused    atomic.Bool
	wg        sync.WaitGroup
	redirects atomic.Int64
	failures  atomic.Int64
	dialErrs  atomic.Int64
	idleClose atomic.Int64
	mu        sync.Mutex
	samples   []string // the first failures, for the test's message
}

const (
	loadPerConn   = 50
	loadTimeout   = 10 * time.Second
	loadMaxSample = 10
)

func startLoad(addr, host string, codes []string, workers int, pace time.Duration) *load {
	l := &load{addr: addr, host: host, codes: codes, pace: pace, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() { l.work(w) })
	}
	return l
}

// Stop ends the load and waits for every request in flight.
func (l *load) Stop() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) work(w int) {
	for i := w; !l.stopped(); {
		conn, err := net.DialTimeout("tcp", l.addr, loadTimeout)
		if err != nil {
			l.dialErrs.Add(1)
			l.fail(fmt.Sprintf("dial: %v", err))
			time.Sleep(100 * time.Millisecond)
			continue
		}
		i = l.useConn(conn, i)
		_ = conn.Close()
	}
}

// useConn sends up to loadPerConn requests on conn and returns the next request's index.
func (l *load) useConn(conn net.Conn, i int) int {
	br := bufio.NewReader(conn)
	for n := 0; n < loadPerConn && !l.stopped(); n++ {
		for l.paused.Load() && !l.stopped() {
			time.Sleep(5 * time.Millisecond)
		}
		code := l.codes[i%len(l.codes)]
		_ = conn.SetDeadline(time.Now().Add(loadTimeout))
		status, closeAfter, err := roundTrip(conn, br, "GET /"+code+" HTTP/1.1\r\nHost: "+l.host+"\r\n\r\n")
		switch {
		case err != nil && n > 0 && errors.Is(err, errNothingRead):
			l.idleClose.Add(1) // closed while idle: send it again on a new connection
			return i
		case err != nil:
			l.fail(fmt.Sprintf("GET /%s: %v", code, err))
			return i + 1
		case status >= 300 && status < 400:
			l.redirects.Add(1)
		default:
			l.fail(fmt.Sprintf("GET /%s: %d", code, status))
		}
		i++
		if closeAfter {
			return i
		}
		time.Sleep(l.pace)
	}
	return i
}

var errNothingRead = errors.New("connection closed before any byte of an answer")

func roundTrip(conn net.Conn, br *bufio.Reader, req string) (status int, closeAfter bool, err error) {
	if _, err := io.WriteString(conn, req); err != nil {
		return 0, false, fmt.Errorf("%w: %w", errNothingRead, err)
	}
	if _, err := br.Peek(1); err != nil {
		return 0, false, fmt.Errorf("%w: %w", errNothingRead, err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Close, err
}

func (l *load) fail(what string) {
	l.failures.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) < loadMaxSample {
		l.samples = append(l.samples, what)
	}
}

// result is what the generator saw, for a test's message and the figures in the docs.
func (l *load) result() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d redirects, %d failed (%d failed dials), %d idle keep-alive closes; first failures %q",
		l.redirects.Load(), l.failures.Load(), l.dialErrs.Load(), l.idleClose.Load(), l.samples)
}
