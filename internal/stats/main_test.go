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
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/stats"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// One PostgreSQL with PgBouncer serves the package, started by the first test that needs it;
// each test takes a database of its own on it (newDB), so tests run in parallel. Tests that stop
// a server start their own.
var shared = localenv.Shared{Options: localenv.Options{PgBouncer: true}}

func TestMain(m *testing.M) { os.Exit(localenv.RunTests(m, &shared)) }

// testEnv is the package's shared PostgreSQL and PgBouncer.
func testEnv(t testing.TB) *localenv.Env { return shared.Env(t) }

var dbCounter atomic.Int64

// newDB creates a migrated database on the shared server and returns its name.
func newDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("stats_test_%d", dbCounter.Add(1))
	if err := testEnv(t).Postgres.CreateDatabase(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background(), testEnv(t).Postgres.URL(name)); err != nil {
		t.Fatal(err)
	}
	return name
}

// openStore opens a store on url; viaPgBouncer sends every query unprepared
// (QueryExecModeExec), as production does through PgBouncer. Tests read its Pool.
func openStore(t testing.TB, url string, viaPgBouncer bool) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.Options{ViaPgBouncer: viaPgBouncer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// newAggregator returns an Aggregator on its own registry.
func newAggregator(t testing.TB, st *store.Store, opts stats.Options) (*stats.Aggregator, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if opts.PodID == "" {
		opts.PodID = t.Name()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	return stats.New(st, opts), reg
}

// startRun runs a.Run until the test ends, or until the returned stop is called, which waits
// for Run and returns its error.
func startRun(t *testing.T, a *stats.Aggregator) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func mustFlush(t *testing.T, a *stats.Aggregator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// metric reads a counter or gauge from reg; labels are name, value pairs.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m.GetLabel(), labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func hasLabels[L interface {
	GetName() string
	GetValue() string
}](got []L, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range got {
			found = found || (l.GetName() == want[i] && l.GetValue() == want[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// visits returns the url_stats count of a code on the default domain, or -1 when it has no row.
func visits(t *testing.T, pool *pgxpool.Pool, code string) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(context.Background(),
		"SELECT visits FROM url_stats WHERE domain = '' AND code = $1", code).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// logRows counts the visit_logs rows of a code.
func logRows(t *testing.T, pool *pgxpool.Pool, code string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM visit_logs WHERE code = $1", code).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// hourVisits sums the visit_hours counts of a code.
func hourVisits(t *testing.T, pool *pgxpool.Pool, code string) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(context.Background(),
		"SELECT coalesce(sum(visits), 0)::bigint FROM visit_hours WHERE code = $1", code).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds, failing the test after a generous timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// t0 is an arbitrary fixed visit time; visits are stamped relative to it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The metric names are a contract (DESIGN.md §5).
func TestMetricNames(t *testing.T) {
	t.Parallel()
	_, reg := newAggregator(t, nil, stats.Options{})
	for _, name := range []string{
		"shortlink_stats_pending_visits", "shortlink_stats_pending_bytes", "shortlink_stats_dropped_visits_total",
		"shortlink_stats_flush_duration_seconds", "shortlink_stats_flushes_total",
		"shortlink_stats_rejected_visits_total",
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("metric %s: %d series, %v", name, n, err)
		}
	}
}
