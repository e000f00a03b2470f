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

package stats_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// A flush whose COMMIT succeeded but whose reply never arrived is retried with the same batch
// id, which is found: the visits count once.
func TestLostCommitReplyCountsOnce(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	proxy := startCommitCutter(t, fmt.Sprintf("127.0.0.1:%d", testEnv(t).Postgres.Port))
	st := openStore(t, fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", proxy.ln.Addr(), db), true)
	pool := st.Pool()
	a, reg := newAggregator(t, st, stats.Options{})
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for range 40 {
		a.Record(stats.Visit{Code: "once", At: at, Referer: "https://news.example/", Country: "SE"})
	}

	proxy.armed.Store(true)
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush with the COMMIT reply lost = nil, want an error")
	}
	if n := proxy.cuts.Load(); n != 1 {
		t.Fatalf("proxy cut %d COMMIT replies, want 1", n)
	}
	if got := visits(t, pool, "once"); got != 40 {
		t.Fatalf("url_stats after the lost reply = %d, want 40: the commit itself succeeded", got)
	}

	mustFlush(t, a)
	if got, rows, hours := visits(t, pool, "once"), logRows(t, pool, "once"), hourVisits(t, pool, "once"); got != 40 || rows != 40 || hours != 40 {
		t.Fatalf("after the retry: url_stats %d, visit_logs %d, visit_hours %d; want 40 each", got, rows, hours)
	}
	day := at.Format(time.DateOnly)
	checkBreakdowns(t, pool, "once", map[string]int64{day + " referrer news.example": 40, day + " device desktop": 40, day + " country SE": 40})
	if got := metric(t, reg, "shortlink_stats_flushes_total", "result", "duplicate"); got != 1 {
		t.Errorf("duplicate flushes = %v, want 1", got)
	}

	a.Record(stats.Visit{Code: "once"})
	mustFlush(t, a)
	if got := visits(t, pool, "once"); got != 41 {
		t.Fatalf("a visit after the retry: url_stats %d, want 41", got)
	}
}

// commitCutter is a TCP proxy in front of PostgreSQL. Once armed, it lets a COMMIT through and,
// as soon as the server confirms it, closes the client's connection instead of forwarding the
// confirmation: a commit that succeeded and whose reply was lost.
type commitCutter struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int32

	mu    sync.Mutex
	conns []net.Conn
}

func startCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutter{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.relay(client) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *commitCutter) relay(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, client)
		_ = server.Close()
		close(done)
	}()
	p.relayReplies(server, client)
	_ = client.Close()
	_ = server.Close()
	<-done
}

// relayReplies forwards the server's messages, each a type byte, a length counting itself and
// a body, until either side closes or an armed cutter sees CommandComplete "COMMIT".
func (p *commitCutter) relayReplies(server io.Reader, client io.Writer) {
	r, w := bufio.NewReader(server), bufio.NewWriter(client)
	head := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:])-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if head[0] == 'C' && bytes.Equal(body, []byte("COMMIT\x00")) && p.armed.CompareAndSwap(true, false) {
			p.cuts.Add(1)
			return
		}
		_, _ = w.Write(head)
		_, _ = w.Write(body)
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}
