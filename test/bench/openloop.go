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

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"
)

// openLoopConns is how many connections the open-loop generator keeps, as wrk -c64 does.
const openLoopConns = 64

// openLoop sends GET requests for codes, in turn, at a fixed rate for d, and returns the median
// and 99th percentile latency in milliseconds; every answer must be a 302.
//
// Requests are spread over openLoopConns connections, each sending every openLoopConns-th
// request when it is due, written as raw HTTP/1.1: net/http's client spent more CPU a request
// than the server it measured, and on two shared cores it made the generator, not the server,
// set the latency. A request is timed from when it was due if its connection was still busy
// with the previous answer then (the server held it back: no coordinated omission), and from
// when it was sent otherwise (the generator's timer woke late: the server is not to blame).
func openLoop(ctx context.Context, baseURL, host string, codes []string, rate float64, d time.Duration) (p50, p99 float64, err error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return 0, 0, err
	}
	reqs := make([][]byte, len(codes))
	for i, c := range codes {
		reqs[i] = []byte("GET /" + c + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + benchUserAgent + "\r\n\r\n")
	}
	conns := make([]net.Conn, openLoopConns)
	var dialer net.Dialer
	for i := range conns {
		if conns[i], err = dialer.DialContext(ctx, "tcp", u.Host); err != nil {
			for _, c := range conns[:i] {
				_ = c.Close()
			}
			return 0, 0, err
		}
	}
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, int(d/interval))
	start := time.Now()
	errs := make([]error, len(conns), len(conns)+1)
	var wg sync.WaitGroup
	for c, conn := range conns {
		wg.Go(func() {
			defer func() { _ = conn.Close() }()
			br := bufio.NewReader(conn)
			for i := c; i < len(lat) && ctx.Err() == nil; i += len(conns) {
				due := start.Add(time.Duration(i) * interval)
				sent := due
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
					sent = time.Now()
				}
				if errs[c] = roundTrip(conn, br, reqs[i%len(reqs)]); errs[c] != nil {
					return
				}
				lat[i] = time.Since(sent)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return 0, 0, fmt.Errorf("open loop: %w", err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	return ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), nil
}

// roundTrip writes one request and reads its answer, which must be a 302. It parses only what
// it must (status, Content-Length), so the generator allocates nothing a request and its
// collector does not pause it while answers wait.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) error {
	if _, err := conn.Write(req); err != nil {
		return err
	}
	status, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 302 ")) {
		return fmt.Errorf("answer %q, want a 302", bytes.TrimSpace(status))
	}
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return fmt.Errorf("Content-Length %q: %w", value, err)
			}
		}
	}
	_, err = br.Discard(length)
	return err
}
