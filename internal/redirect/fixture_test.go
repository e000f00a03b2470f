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

package redirect_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// fixture is one test's world: a database of its own, a Redis of its own, the operator's side
// (writer, cache) to change links with, and a registry to read the redirector's metrics from.
type fixture struct {
	t       *testing.T
	env     *localenv.Env // the servers behind pg and redis
	writer  *store.Store  // direct, as the operator writes
	reader  *store.Store  // through PgBouncer, as the redirector reads
	rdb     *redis.Client
	cache   *cache.Cache
	reg     *prometheus.Registry
	metrics *redirect.Metrics
	visits  *memVisits
	now     time.Time // the handlers' clock
}

// newFixture uses env's PostgreSQL and Redis; with env nil, the package's PostgreSQL and a
// Redis of the test's own.
func newFixture(t *testing.T, env *localenv.Env) *fixture {
	t.Helper()
	if env == nil {
		pg := sharedPostgres(t)
		env = &localenv.Env{Postgres: pg.Postgres, PgBouncer: pg.PgBouncer,
			Redis: localenv.ForTest(t, localenv.Options{Redis: true}).Redis}
	}
	db := newDB(t, env)
	f := &fixture{t: t, env: env, reg: prometheus.NewRegistry(), visits: &memVisits{}, now: time.Now().Truncate(time.Second)}
	f.metrics = redirect.NewMetrics(f.reg)
	f.writer = openStore(t, db.direct, store.Options{})
	f.reader = openStore(t, db.bouncer, store.Options{ViaPgBouncer: true, MaxConns: 8})
	rdb, err := cache.NewClient(env.Redis.URL(), cache.ClientOptions{Name: "redirect-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	f.rdb, f.cache = rdb, cache.New(rdb, cache.Options{})
	return f
}

func openStore(t *testing.T, url string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// resolver starts a Resolver on the fixture's reader (or st), following pub/sub when
// subscribe is set, until the test ends.
func (f *fixture) resolver(o redirect.Options, subscribe bool, st redirect.DBTier) *redirect.Resolver {
	f.t.Helper()
	if st == nil {
		st = f.reader
	}
	r := redirect.NewResolver(redirect.ResolverDeps{
		Store: st, Cache: f.cache, Metrics: f.metrics, Options: o, Logger: f.log(),
		RedisPing: func(ctx context.Context) error { return f.rdb.Ping(ctx).Err() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	var sub redirect.Subscription
	if subscribe {
		sub = f.cache.Subscribe(ctx)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, sub) }()
	f.t.Cleanup(func() { cancel(); <-done; r.Close() })
	return r
}

// server is the redirector's handler on r, serving testHost as the default domain and
// otherHost besides, unless cfg names a site itself.
func (f *fixture) server(r redirect.LinkResolver, cfg redirect.Config) http.Handler {
	if cfg.Site.DefaultDomain() == "" {
		cfg.Site = links.MustSite(testHost, otherHost)
	}
	return redirect.NewServer(redirect.Deps{
		Links: r, Visits: f.visits, Metrics: f.metrics, Config: cfg, Now: func() time.Time { return f.now }, Logger: f.log(),
	})
}

// log writes to the test's output, so a failure shows what the redirector logged.
func (f *fixture) log() *slog.Logger {
	return slog.New(slog.NewTextHandler(f.t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

const (
	testHost  = "sho.rt"
	otherHost = "go.example.com"
)

// get sends one request to h.
func get(h http.Handler, method, host, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// link is a declared link on the default domain, redirecting with 302.
func link(code, target string) links.Link {
	return links.Link{
		Code: code, Target: target, RedirectType: http.StatusFound,
		Source: links.SourceK8s, Owner: "team-a/" + code, OwnerUID: "uid-" + code,
	}
}

var claimTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// upsert writes l to PostgreSQL only, as a link made through the API or an operator whose
// Redis write and message were lost, and returns its version.
func (f *fixture) upsert(l links.Link) links.Link {
	f.t.Helper()
	res, err := f.writer.UpsertDeclared(context.Background(), store.Declared{Link: l, CreatedAt: claimTime, InstallID: "test"})
	if err != nil {
		f.t.Fatalf("upsert %s: %v", l.Code, err)
	}
	l.Version = res.Version
	return l
}

// declare writes l as the operator does: PostgreSQL, then Redis, then the invalidation.
func (f *fixture) declare(l links.Link) links.Link {
	f.t.Helper()
	l = f.upsert(l)
	f.setRedis(l)
	f.publish(l.Domain, l.Code, l.Version)
	return l
}

func (f *fixture) setRedis(l links.Link) {
	f.t.Helper()
	if _, err := f.cache.Set(context.Background(), l); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) publish(domain, code string, version int64) {
	f.t.Helper()
	inv := cache.Invalidation{Domain: domain, Code: code, Version: version}
	if err := f.cache.Publish(context.Background(), inv); err != nil {
		f.t.Fatal(err)
	}
}

// remove deletes l as the operator does, leaving tombstones, and returns the tombstone's version.
func (f *fixture) remove(l links.Link) int64 {
	f.t.Helper()
	ctx := context.Background()
	v, ok, err := f.writer.DeleteDeclared(ctx, l.Domain, l.Code, l.OwnerUID)
	if err != nil || !ok {
		f.t.Fatalf("delete %s: %v, %v", l.Code, ok, err)
	}
	if _, err := f.cache.Delete(ctx, l.Domain, l.Code, v); err != nil {
		f.t.Fatal(err)
	}
	f.publish(l.Domain, l.Code, v)
	return v
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.writer.Pool().Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// metric returns the value of the counter or gauge name with exactly labels, or 0.
func (f *fixture) metric(name string, labels map[string]string) float64 {
	f.t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m.GetLabel(), labels) {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func matches(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, p := range pairs {
		if want[p.GetName()] != p.GetValue() {
			return false
		}
	}
	return true
}

// memVisits records visits in memory; the real aggregator is tested in internal/stats.
type memVisits struct {
	mu     sync.Mutex
	visits []redirect.Visit
}

func (m *memVisits) Record(v redirect.Visit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.visits = append(m.visits, v)
}

func (m *memVisits) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.visits)
}

func (m *memVisits) last() redirect.Visit {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.visits[len(m.visits)-1]
}

// eventually polls cond until it holds, failing the test after a generous timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
