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

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// One PostgreSQL with PgBouncer serves the package, each test on a database of its own. It
// starts on first use, so the tests that need none (decoding, keys) run without it.
var shared = localenv.Shared{Options: localenv.Options{PgBouncer: true}}

func TestMain(m *testing.M) { os.Exit(localenv.RunTests(m, &shared)) }

func sharedPostgres(t *testing.T) *localenv.Env {
	t.Helper()
	return shared.Env(t)
}

var dbCounter atomic.Int64

const (
	testHost  = "sho.rt"
	otherHost = "go.example.com"
	testKey   = "test-key-0123456789"
)

// fixture is one test's world: a migrated database, the API's store through PgBouncer (as the
// redirector writes), a direct store for declaring links and checking rows, and the
// redirector's whole handler with the API mounted, its change feed polled every 50 ms.
type fixture struct {
	t      *testing.T
	writer *store.Store
	codec  *links.Codec
	reg    *prometheus.Registry
	h      http.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	keys, err := api.LoadKeys(strings.NewReader(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	return newFixtureWithKeys(t, keys)
}

// testKeys are the fixture's keys: the test key may do anything (an admin key); the others are
// narrowed.
const testKeys = "tester:" + testKey + " scope=admin\n" +
	"reader:" + readerKey + " ops=read scope=admin\n" +
	"golinks:" + goKey + " domains=" + otherHost + "\n"

const (
	readerKey = "reader-key-0123456789"
	goKey     = "golinks-key-0123456789"
)

func newFixtureWithKeys(t *testing.T, keys *api.Keys) *fixture {
	t.Helper()
	env := sharedPostgres(t)
	ctx := context.Background()
	name := fmt.Sprintf("api_test_%d", dbCounter.Add(1))
	if err := env.Postgres.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, env.Postgres.URL(name)); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, reg: prometheus.NewRegistry()}
	f.writer = openStore(t, env.Postgres.URL(name), store.Options{})
	reader := openStore(t, env.PgBouncer.URL(name), store.Options{ViaPgBouncer: true, MaxConns: 4})
	apiStore := openStore(t, env.PgBouncer.URL(name), store.Options{ViaPgBouncer: true, MaxConns: 8})
	var err error
	if f.codec, err = links.NewCodec([]byte("api-test-codec-secret"), 6); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	apiHandler, err := api.NewHandler(api.Deps{
		Store: apiStore, Codec: f.codec, Keys: keys, Metrics: api.NewMetrics(f.reg), Logger: log,
		Config: api.Config{Site: links.MustSite(testHost, otherHost)},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = redirect.NewServer(redirect.Deps{
		Links: f.resolver(reader, log), Logger: log, API: apiHandler,
		Config: redirect.Config{Site: links.MustSite(testHost, otherHost)},
	})
	return f
}

func (f *fixture) resolver(st *store.Store, log *slog.Logger) *redirect.Resolver {
	r := redirect.NewResolver(redirect.ResolverDeps{
		Store: st, Logger: log, Options: redirect.Options{PollInterval: 50 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, nil) }()
	f.t.Cleanup(func() { cancel(); <-done; r.Close() })
	return r
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

// call sends one request to the redirector's handler, with the test key unless key says.
func (f *fixture) call(method, path, body string, key ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Host = testHost
	bearer := testKey
	if len(key) > 0 {
		bearer = key[0]
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// mustCreate creates a link through the API and returns the answer.
func (f *fixture) mustCreate(body string) api.LinkResponse {
	f.t.Helper()
	rec := f.call(http.MethodPost, "/api/v1/links", body)
	if rec.Code != http.StatusCreated {
		f.t.Fatalf("create %s: %d %s", body, rec.Code, rec.Body)
	}
	var out api.LinkResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// declare writes a declared link, as the operator does.
func (f *fixture) declare(code string) {
	f.t.Helper()
	_, err := f.writer.UpsertDeclared(context.Background(), store.Declared{
		Link: links.Link{Code: code, Target: "https://example.com/declared/" + code, Source: links.SourceK8s,
			Owner: "team-a/" + code, OwnerUID: "uid-" + code},
		CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), InstallID: "test",
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(sql string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.writer.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// requests reads shortlink_api_requests_total{operation, result}.
func (f *fixture) requests(operation, result string) float64 {
	f.t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, p := range m.GetLabel() {
				labels[p.GetName()] = p.GetValue()
			}
			if labels["operation"] == operation && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// gauge and counter read an unlabelled metric from the fixture's registry (0 when absent).
func (f *fixture) gauge(name string) float64   { return f.metric(name).GetGauge().GetValue() }
func (f *fixture) counter(name string) float64 { return f.metric(name).GetCounter().GetValue() }

func (f *fixture) metric(name string) *dto.Metric {
	f.t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0]
		}
	}
	return nil
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
