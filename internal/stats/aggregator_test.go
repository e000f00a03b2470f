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
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// Visits recorded from many goroutines while Run flushes in small batches are all counted,
// once, directly and through PgBouncer.
func TestConcurrentVisitsCountedExactly(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"postgres", "pgbouncer"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			url, bouncer := testEnv(t).Postgres.URL(db), false
			if via == "pgbouncer" {
				url, bouncer = testEnv(t).PgBouncer.URL(db), true
			}
			st := openStore(t, url, bouncer)
			pool := st.Pool()
			a, reg := newAggregator(t, st, stats.Options{BatchSize: 97, FlushInterval: 5 * time.Millisecond})
			startRun(t, a)

			keys := [][2]string{{"", "a"}, {"", "b"}, {"", "c"}, {"go.example", "a"}, {"go.example", "z"}}
			const total = 8000
			recordSpread(a, keys, 16, total/16)
			mustFlush(t, a)

			checkSpread(t, pool, keys, total)
			var rows int64
			if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM visit_logs").Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows != total {
				t.Errorf("visit_logs has %d rows, want %d", rows, total)
			}
			if p := metric(t, reg, "shortlink_stats_pending_visits"); p != 0 {
				t.Errorf("pending visits after flush = %v, want 0", p)
			}
		})
	}
}

// recordSpread records goroutines*each visits from as many goroutines: visit n goes to
// keys[n%len(keys)] and is stamped t0 + n ms.
func recordSpread(a *stats.Aggregator, keys [][2]string, goroutines, each int) {
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				n := g*each + i
				k := keys[n%len(keys)]
				a.Record(stats.Visit{Domain: k[0], Code: k[1], At: t0.Add(time.Duration(n) * time.Millisecond),
					ClientIP: netip.MustParseAddr("192.0.2.7"), UserAgent: "test"})
			}
		})
	}
	wg.Wait()
}

// checkSpread checks url_stats after recordSpread: an equal share per key, and the latest
// visit of each, the highest n going to it.
func checkSpread(t *testing.T, pool *pgxpool.Pool, keys [][2]string, total int) {
	t.Helper()
	for i, k := range keys {
		var got int64
		var last time.Time
		err := pool.QueryRow(context.Background(), "SELECT visits, last_visit_at FROM url_stats WHERE domain = $1 AND code = $2",
			k[0], k[1]).Scan(&got, &last)
		if err != nil {
			t.Fatalf("read %v: %v", k, err)
		}
		wantLast := t0.Add(time.Duration(total-len(keys)+i) * time.Millisecond)
		if got != int64(total/len(keys)) || !last.Equal(wantLast) {
			t.Errorf("url_stats %v = %d visits, last %v; want %d, last %v", k, got, last, total/len(keys), wantLast)
		}
	}
}

// The SIGTERM shape: once Run's context ends, Run writes what is held before it returns.
func TestRunFlushesWhenStopped(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{FlushInterval: time.Hour})
	stop := startRun(t, a)
	for range 250 {
		a.Record(stats.Visit{Code: "bye"})
	}
	if got := visits(t, pool, "bye"); got != -1 {
		t.Fatalf("visits before stop = %d, want none written yet", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got, rows := visits(t, pool, "bye"), logRows(t, pool, "bye"); got != 250 || rows != 250 {
		t.Fatalf("after stop: url_stats %d, visit_logs %d; want 250 each", got, rows)
	}
}

// When PostgreSQL stays down through the shutdown, Run gives up after ShutdownTimeout and says
// so instead of returning as if everything was written.
func TestRunReportsUnwrittenVisits(t *testing.T) {
	t.Parallel()
	st := openStore(t, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", true)
	a, _ := newAggregator(t, st, stats.Options{FlushInterval: time.Hour, ShutdownTimeout: 200 * time.Millisecond})
	stop := startRun(t, a)
	a.Record(stats.Visit{Code: "lost"})
	if err := stop(); err == nil {
		t.Fatal("run with PostgreSQL down through the shutdown = nil, want an error")
	}
}

// A batch PostgreSQL refuses as data is set aside and counted; later batches still flush.
func TestPoisonBatchSetAside(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, reg := newAggregator(t, st, stats.Options{})
	// text cannot hold NUL: PostgreSQL answers 22021 (character_not_in_repertoire).
	a.Record(stats.Visit{Code: "poison\x00"})
	a.Record(stats.Visit{Code: "with-poison"})
	mustFlush(t, a)
	if got := metric(t, reg, "shortlink_stats_rejected_visits_total"); got != 2 {
		t.Errorf("rejected visits = %v, want 2", got)
	}
	if got := metric(t, reg, "shortlink_stats_flushes_total", "result", "rejected"); got != 1 {
		t.Errorf("rejected flushes = %v, want 1", got)
	}

	for range 3 {
		a.Record(stats.Visit{Code: "good"})
	}
	mustFlush(t, a)
	if got, rows := visits(t, pool, "good"), logRows(t, pool, "good"); got != 3 || rows != 3 {
		t.Errorf("after the poison batch: url_stats %d, visit_logs %d; want 3 each", got, rows)
	}
	if got := visits(t, pool, "with-poison"); got != -1 {
		t.Errorf("a visit of the set-aside batch was counted: %d", got)
	}
	if p := metric(t, reg, "shortlink_stats_pending_visits"); p != 0 {
		t.Errorf("pending visits = %v, want 0", p)
	}
}

// Beyond MaxPending, visits are dropped and each one is counted.
func TestOverflowIsCounted(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: PostgreSQL is down for this pool.
	st := openStore(t, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", true)
	a, reg := newAggregator(t, st, stats.Options{MaxPending: 50, BatchSize: 20})
	for range 80 {
		a.Record(stats.Visit{Code: "spill"})
	}
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush with PostgreSQL down = nil, want an error")
	}
	for range 7 {
		a.Record(stats.Visit{Code: "spill"})
	}
	if got := metric(t, reg, "shortlink_stats_dropped_visits_total"); got != 37 {
		t.Errorf("dropped visits = %v, want 37", got)
	}
	if got := metric(t, reg, "shortlink_stats_pending_visits"); got != 50 {
		t.Errorf("pending visits = %v, want 50", got)
	}
}
