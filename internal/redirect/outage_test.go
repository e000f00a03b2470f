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
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// traffic requests codes in a loop from a few goroutines until stopped, and keeps the first
// answer that was not the expected redirect.
type traffic struct {
	sent    atomic.Int64
	mu      sync.Mutex
	failure string
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startTraffic(h http.Handler, codes []string, want func(code string) string) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	for g := range 4 {
		tr.wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				code := codes[i%len(codes)]
				rec := get(h, "GET", testHost, "/"+code)
				if rec.Code != http.StatusFound || rec.Header().Get("Location") != want(code) {
					tr.fail(fmt.Sprintf("GET /%s = %d %q", code, rec.Code, rec.Header().Get("Location")))
				}
				tr.sent.Add(1)
			}
		})
	}
	return tr
}

func (tr *traffic) fail(msg string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.failure == "" {
		tr.failure = msg
	}
}

// await lets at least n more requests through.
func (tr *traffic) await(t *testing.T, n int64) {
	t.Helper()
	target := tr.sent.Load() + n
	eventually(t, fmt.Sprintf("%d more requests", n), func() bool { return tr.sent.Load() >= target })
}

func (tr *traffic) finish(t *testing.T) {
	t.Helper()
	close(tr.stop)
	tr.wg.Wait()
	if tr.failure != "" {
		t.Fatalf("a known link did not redirect: %s", tr.failure)
	}
}

func target(code string) string { return "https://example.com/" + code }

func declareLinks(f *fixture, prefix string, n int) []string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("%s%d", prefix, i)
		f.declare(link(codes[i], target(codes[i])))
	}
	return codes
}

// Redis stops under traffic: links in memory keep redirecting, links that are not fall through
// to PostgreSQL, and nothing answers 5xx. The breaker opens, then closes once Redis is back.
func TestRedisStoppedMidTraffic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{PollInterval: 50 * time.Millisecond}, true, nil), redirect.Config{})
	warm, cold := declareLinks(f, "warm", 10), declareLinks(f, "cold", 10)
	tr := startTraffic(h, warm, target)
	tr.await(t, 200)

	startRedis := localenv.StopForTest(t, f.env.Redis)
	redisUp := func() float64 { return f.metric("shortlink_dependency_up", map[string]string{"dependency": "redis"}) }
	eventually(t, "the breaker to open", func() bool { return redisUp() == 0 })
	tr.await(t, 200)
	for _, code := range cold { // not in memory: PostgreSQL answers
		if rec := get(h, "GET", testHost, "/"+code); rec.Code != http.StatusFound || rec.Header().Get("Location") != target(code) {
			t.Fatalf("GET /%s with Redis down = %d %q", code, rec.Code, rec.Header().Get("Location"))
		}
	}

	startRedis()
	eventually(t, "the breaker to close", func() bool { return redisUp() == 1 })
	tr.await(t, 200)
	tr.finish(t)
}

// PostgreSQL and PgBouncer stop: links in memory or in Redis keep redirecting; what neither
// knows answers 503 (not a false 404), and everything recovers when they are back.
func TestPostgresAndPgBouncerStopped(t *testing.T) {
	t.Parallel()
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, Redis: true})
	f := newFixture(t, env)
	h := f.server(f.resolver(redirect.Options{PollInterval: 50 * time.Millisecond}, true, nil), redirect.Config{})
	inMemory, inRedis := declareLinks(f, "mem", 5), declareLinks(f, "red", 5)
	tr := startTraffic(h, inMemory, target)
	tr.await(t, 100)

	startPgBouncer := localenv.StopForTest(t, env.PgBouncer)
	startPostgres := localenv.StopForTest(t, env.Postgres)
	postgresUp := func() float64 {
		return f.metric("shortlink_dependency_up", map[string]string{"dependency": "postgres"})
	}
	eventually(t, "the poll to notice", func() bool { return postgresUp() == 0 })
	tr.await(t, 200)
	for _, code := range inRedis {
		if rec := get(h, "GET", testHost, "/"+code); rec.Code != http.StatusFound || rec.Header().Get("Location") != target(code) {
			t.Fatalf("GET /%s with PostgreSQL down = %d %q", code, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := get(h, "GET", testHost, "/unknown"); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("GET of a code nobody knows with PostgreSQL down = %d, want 503 with Retry-After", rec.Code)
	}

	startPostgres()
	startPgBouncer()
	eventually(t, "PostgreSQL to answer again", func() bool {
		return get(h, "GET", testHost, "/unknown").Code == http.StatusNotFound && postgresUp() == 1
	})
	tr.finish(t)
}
