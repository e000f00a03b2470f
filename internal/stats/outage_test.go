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
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/stats"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// While PostgreSQL, or PgBouncer in front of it, is down, Record keeps working and visits are
// held; once it is back they all reach url_stats, once. The test has its own servers, since it
// stops them.
func TestOutageHoldsVisits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true})
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, env.PgBouncer.URL("postgres"), true)
	for _, tc := range []struct {
		name string
		svc  localenv.Service
	}{
		{"postgres", env.Postgres},
		{"pgbouncer", env.PgBouncer},
	} {
		t.Run(tc.name, func(t *testing.T) { testOutage(t, st, tc.name, tc.svc) })
	}
	t.Run("byte bound", func(t *testing.T) { testOutageByteBound(t, st, env.Postgres) })
}

// testOutageByteBound records visits with 8 KiB headers while PostgreSQL is down: what is held
// stays within MaxPendingBytes, each held visit keeps its headers only as long as they are
// stored, and what does not fit is dropped and counted. Once PostgreSQL is back the held
// visits, and only they, are written.
func testOutageByteBound(t *testing.T, st *store.Store, pg localenv.Service) {
	pool := st.Pool()
	const bound, recorded = 256 << 10, 5000
	a, reg := newAggregator(t, st, stats.Options{
		FlushInterval: 20 * time.Millisecond, FlushTimeout: 2 * time.Second, MaxPendingBytes: bound,
	})
	startRun(t, a)
	start := localenv.StopForTest(t, pg)
	header := strings.Repeat("h", 8<<10)
	for range recorded {
		a.Record(stats.Visit{Code: "big", UserAgent: header, Referer: header})
		if b := metric(t, reg, "shortlink_stats_pending_bytes"); b > bound {
			t.Fatalf("pending bytes = %v, beyond the bound %d", b, bound)
		}
	}
	held, dropped := metric(t, reg, "shortlink_stats_pending_visits"), metric(t, reg, "shortlink_stats_dropped_visits_total")
	// Cut on the request path, a visit holds itself, its code and 512 + 1024 bytes of headers.
	fit := bound / (int(unsafe.Sizeof(stats.Visit{})) + len("big") + 512 + 1024)
	if held != float64(fit) || held+dropped != recorded {
		t.Fatalf("held %v and dropped %v visits of %d; want %d held, the rest dropped", held, dropped, recorded, fit)
	}

	start()
	eventually(t, "held visits flushed", func() bool { return metric(t, reg, "shortlink_stats_pending_visits") == 0 })
	if b := metric(t, reg, "shortlink_stats_pending_bytes"); b != 0 {
		t.Fatalf("pending bytes after the flush = %v, want 0", b)
	}
	if got := visits(t, pool, "big"); got != int64(held) {
		t.Fatalf("url_stats holds %d visits of big; want the %v held", got, held)
	}
	var ua, ref int
	if err := pool.QueryRow(context.Background(), `SELECT max(octet_length(user_agent)), max(octet_length(referer))
		FROM visit_logs WHERE code = 'big'`).Scan(&ua, &ref); err != nil {
		t.Fatal(err)
	}
	if ua != 512 || ref != 1024 {
		t.Fatalf("stored User-Agent %d and Referer %d bytes long; want 512 and 1024", ua, ref)
	}
}

// testOutage records visits of code name while svc is stopped, so the database is unreachable,
// and checks that they are held, then, once svc is back, written once.
func testOutage(t *testing.T, st *store.Store, name string, svc localenv.Service) {
	pool := st.Pool()
	a, reg := newAggregator(t, st, stats.Options{FlushInterval: 20 * time.Millisecond, FlushTimeout: 2 * time.Second})
	startRun(t, a)
	a.Record(stats.Visit{Code: name + "-before"})
	eventually(t, "a visit flushed before the outage", func() bool { return visits(t, pool, name+"-before") == 1 })

	start := localenv.StopForTest(t, svc)
	const held = 300
	for range held {
		a.Record(stats.Visit{Code: name})
	}
	errorsBefore := metric(t, reg, "shortlink_stats_flushes_total", "result", "error")
	eventually(t, "a failed flush", func() bool {
		return metric(t, reg, "shortlink_stats_flushes_total", "result", "error") > errorsBefore
	})
	if p := metric(t, reg, "shortlink_stats_pending_visits"); p != held {
		t.Fatalf("pending visits while down = %v, want %d", p, held)
	}

	start()
	eventually(t, "held visits flushed", func() bool { return metric(t, reg, "shortlink_stats_pending_visits") == 0 })
	if got, rows := visits(t, pool, name), logRows(t, pool, name); got != held || rows != held {
		t.Fatalf("after the outage: url_stats %d, visit_logs %d; want %d each", got, rows, held)
	}
}
