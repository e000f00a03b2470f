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
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

func noEnv(string) string { return "" }

func TestHelpExitsZero(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, noEnv, &out); err != nil {
		t.Fatalf("--help = %v, want nil (exit 0)", err)
	}
	for _, want := range []string{"-database-url", "DATABASE_URL", "-listen-address", "-shutdown-timeout", "-negative-ttl"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, out.String())
		}
	}
}

func TestEnvironmentTwins(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL": "postgres://pgbouncer/db", "LISTEN_ADDRESS": ":1", "DOMAINS": "a.example, b.example",
		"NEGATIVE_TTL": "3s", "LOCAL_CACHE_SIZE": "-1", "DATABASE_DIRECT": "true", "LOG_LEVEL": "debug",
		"LOCAL_CACHE_BYTES": "1048576", "DATABASE_REPLICA_URL": "postgres://pgbouncer-ro/db", "DATABASE_REPLICA_MAX_LAG": "2s",
	}
	o, err := parseOptions([]string{"--listen-address", ":2"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.databaseURL != "postgres://pgbouncer/db" || o.listenAddr != ":2" || o.negativeTTL != 3*time.Second ||
		o.localSize != -1 || o.localBytes != 1<<20 || !o.databaseDirect || o.metricsAddr != ":9090" || o.logLevel.String() != "DEBUG" {
		t.Fatalf("options = %+v", o)
	}
	if o.databaseReplicaURL != "postgres://pgbouncer-ro/db" || o.databaseReplicaMaxLag != 2*time.Second {
		t.Fatalf("replica options = %q, %s", o.databaseReplicaURL, o.databaseReplicaMaxLag)
	}
	if got := o.site.Domains(); len(got) != 2 || got[0] != "a.example" || got[1] != "b.example" {
		t.Fatalf("domains = %q", got)
	}
}

func TestConfigurationErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"no database", nil, nil},
		{"unknown flag", []string{"--nope"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"bad environment duration", nil, map[string]string{"DATABASE_URL": "postgres://x/db", "POLL_INTERVAL": "soon"}},
		{"bad domain", []string{"--domains", "a.example,bad_domain!"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"bad not-found URL", []string{"--not-found-url", "javascript:alert(1)"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"delay beyond timeout", []string{"--shutdown-delay", "1m", "--shutdown-timeout", "10s"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"delay into the flush's half", []string{"--shutdown-delay", "5s", "--shutdown-timeout", "10s"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"no misses admitted", []string{"--max-concurrent-misses", "0"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"no replica lag allowed", []string{"--database-replica-max-lag", "0s"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
		{"negative pending bytes", []string{"--stats-max-pending-bytes", "-1"}, map[string]string{"DATABASE_URL": "postgres://x/db"}},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, io.Discard)
		if err == nil {
			t.Errorf("%s: run = nil, want an error", tt.name)
		}
	}
}

// The binary serves redirects, readiness and metrics with the contract names, and a cancelled
// context (SIGTERM) stops it cleanly.
func TestServesAndStopsGracefully(t *testing.T) {
	r := startRedirector(t, "hello")
	stop, done, addr, metricsAddr := r.stop, r.done, r.addr, r.metricsAddr

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req := mustRequest(t, "http://"+addr+"/hello")
	req.Host = "sho.rt"
	if status, header, _ := fetch(t, client, req); status != http.StatusFound || header.Get("Location") != "https://example.com/hello" {
		t.Fatalf("GET /hello = %d %q", status, header.Get("Location"))
	}
	if status, _, _ := fetch(t, client, mustRequest(t, "http://"+addr+"/_/readyz")); status != http.StatusOK {
		t.Fatalf("readyz = %d", status)
	}
	assertMetrics(t, client, "http://"+metricsAddr+"/metrics")

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// --permanent-max-age=0 keeps permanent redirects out of caches: it meant one hour before.
func TestPermanentMaxAgeZeroMeansNoCaching(t *testing.T) {
	r := startRedirector(t, "temp", "--permanent-max-age", "0")
	declare(t, r.env.Postgres.URL("postgres"), links.Link{
		Code: "moved", Target: "https://example.com/moved", RedirectType: http.StatusMovedPermanently,
		Source: links.SourceK8s, Owner: "team-a/moved", OwnerUID: "uid-moved",
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req := mustRequest(t, "http://"+r.addr+"/moved")
	req.Host = "sho.rt"
	status, header, _ := fetch(t, client, req)
	if status != http.StatusMovedPermanently || header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("GET /moved with --permanent-max-age=0 = %d, Cache-Control %q; want 301, private, no-store",
			status, header.Get("Cache-Control"))
	}
	r.stop()
	if err := <-r.done; err != nil {
		t.Fatalf("run after stop = %v", err)
	}
}

func assertMetrics(t *testing.T, client *http.Client, url string) {
	t.Helper()
	_, _, body := fetch(t, client, mustRequest(t, url))
	for _, want := range []string{
		`shortlink_redirect_requests_total{result="redirect"} 1`,
		`shortlink_redirect_duration_seconds_bucket{result="redirect",le="5e-05"}`,
		`shortlink_invalidations_total{source="pubsub"}`,
		`shortlink_db_pool_acquired_connections{pool="lookup"}`,
		`shortlink_db_pool_max_connections{pool="stats"} 4`,
		`shortlink_redis_pool_total_connections{pool="cache"}`,
		`shortlink_dependency_up{dependency="postgres"} 1`,
		`shortlink_dependency_up{dependency="redis"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The first request misses memory and is answered by Redis, when the change-feed poll has
	// already healed Redis with the new link, or else by PostgreSQL.
	if !strings.Contains(body, `shortlink_cache_requests_total{result="hit",tier="db"} 1`) &&
		!strings.Contains(body, `shortlink_cache_requests_total{result="hit",tier="redis"} 1`) {
		t.Errorf("metrics show no hit in Redis or PostgreSQL for the first request:\n%s", body)
	}
}

func declare(t *testing.T, url string, l links.Link) {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := store.Declared{Link: l, CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), InstallID: "test"}
	if _, err := s.UpsertDeclared(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// servingAddresses waits for the "Serving" log line and returns the addresses it names.
func servingAddresses(t *testing.T, logs *syncBuffer, done <-chan error) (addr, metricsAddr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v\n%s", err, logs.String())
		default:
		}
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var entry struct{ Msg, Address, MetricsAddress string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "Serving" {
				return entry.Address, entry.MetricsAddress
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no Serving log line:\n%s", logs.String())
	return "", ""
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// fetch sends req and returns the status, headers and body of the answer.
func fetch(t *testing.T, client *http.Client, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStopUnderTrafficLosesNoVisit stops the redirector (as SIGTERM does, by ending run's
// context) while clients are sending, and checks that url_stats holds exactly as many visits
// as the clients received redirects.
func TestStopUnderTrafficLosesNoVisit(t *testing.T) {
	r := startRedirector(t, "busy")
	ctx, env, stop, done, logs, addr := context.Background(), r.env, r.stop, r.done, r.logs, r.addr

	var redirects atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for {
				req, _ := http.NewRequest("GET", "http://"+addr+"/busy", nil)
				req.Host = "sho.rt"
				resp, err := client.Do(req)
				if err != nil {
					return // the server has stopped listening
				}
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusFound {
					redirects.Add(1)
				}
			}
		}()
	}
	for redirects.Load() < 2000 {
		time.Sleep(10 * time.Millisecond)
	}
	stop() // what SIGTERM does through signal.NotifyContext
	if err := <-done; err != nil {
		t.Fatalf("run after stop = %v\n%s", err, logs.String())
	}
	wg.Wait()
	var visits int64
	conn, err := pgx.Connect(ctx, env.Postgres.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(visits), 0) FROM url_stats WHERE code = 'busy'`).Scan(&visits); err != nil {
		t.Fatal(err)
	}
	if visits != redirects.Load() {
		t.Fatalf("url_stats holds %d visits; clients received %d redirects", visits, redirects.Load())
	}
}

// runningRedirector is run() serving one declared link, code, on sho.rt.
type runningRedirector struct {
	env               *localenv.Env
	stop              context.CancelFunc // what SIGTERM does through signal.NotifyContext
	done              chan error         // run's result
	logs              *syncBuffer
	addr, metricsAddr string
}

func startRedirector(t *testing.T, code string, extraArgs ...string) runningRedirector {
	t.Helper()
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, Redis: true})
	if err := store.Migrate(context.Background(), env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	declare(t, env.Postgres.URL("postgres"), links.Link{
		Code: code, Target: "https://example.com/" + code, RedirectType: 302,
		Source: links.SourceK8s, Owner: "team-a/" + code, OwnerUID: "uid-" + code,
	})
	runCtx, stop := context.WithCancel(context.Background())
	r := runningRedirector{env: env, stop: stop, done: make(chan error, 1), logs: &syncBuffer{}}
	args := append([]string{
		"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
		"--database-url", env.PgBouncer.URL("postgres"), "--redis-url", env.Redis.URL(),
		"--default-domain", "sho.rt", "--shutdown-timeout", "20s",
	}, extraArgs...)
	go func() { r.done <- run(runCtx, args, noEnv, r.logs) }()
	r.addr, r.metricsAddr = servingAddresses(t, r.logs, r.done)
	return r
}
