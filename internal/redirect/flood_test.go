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
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// lookupCalls is how often PostgreSQL itself executed store.Lookup's statement in the
// fixture's database, from its statement statistics rather than any counter of ours.
func (f *fixture) lookupCalls() int64 {
	f.t.Helper()
	var n int64
	err := f.writer.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND query LIKE '%FROM urls%AND code = $2 AND NOT deleted%'`).Scan(&n)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// A flood of random unknown codes: PostgreSQL sees at most one lookup per code per negative
// TTL, and the hot links stay in memory although the flood has more codes than the in-process
// cache has room for.
func TestUnknownCodeFlood(t *testing.T) {
	t.Parallel()
	const hot, flood, repeats, localBytes = 100, 1500, 3, 128 << 10 // room for some 500 links
	f := newFixture(t, nil)
	// No pub/sub: the subscription is established asynchronously, and its first signal flushes
	// the in-process caches, which could land mid-flood and let a code be looked up twice.
	// What is measured here — negative entries and eviction — does not involve pub/sub.
	h := f.server(f.resolver(redirect.Options{
		LocalBytes: localBytes, LocalTTL: time.Hour, NegativeSize: 10 * flood, NegativeTTL: time.Hour,
	}, false, nil), redirect.Config{})
	hotCodes := declareLinks(f, "hot", hot)
	for _, code := range hotCodes {
		if rec := get(h, "GET", testHost, "/"+code); rec.Code != http.StatusFound {
			t.Fatalf("warming %s = %d", code, rec.Code)
		}
		// Out of Redis, so that only memory can answer it without PostgreSQL from now on.
		if err := f.rdb.Del(context.Background(), cache.KeyPrefix+":"+code).Err(); err != nil {
			t.Fatal(err)
		}
	}

	before := f.lookupCalls()
	codes := make([]string, 0, flood*repeats)
	for i := range flood {
		code := fmt.Sprintf("x%d%08x", i, rand.Uint32()) //nolint:gosec // random codes, not secrets
		for range repeats {
			codes = append(codes, code)
		}
	}
	rand.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] }) //nolint:gosec // test order
	floodConcurrently(t, h, codes)
	afterFlood := f.lookupCalls()
	if n := afterFlood - before; n > flood || n == 0 {
		t.Fatalf("PostgreSQL executed %d lookups for %d unknown codes requested %d times each; want 1 to %d",
			n, flood, repeats, flood)
	}

	for _, code := range hotCodes {
		if rec := get(h, "GET", testHost, "/"+code); rec.Code != http.StatusFound || rec.Header().Get("Location") != target(code) {
			t.Fatalf("hot link %s after the flood = %d %q", code, rec.Code, rec.Header().Get("Location"))
		}
	}
	if n := f.lookupCalls() - afterFlood; n != 0 {
		t.Fatalf("%d hot links were looked up in PostgreSQL after the flood; want all answered from memory", n)
	}
}

func floodConcurrently(t *testing.T, h http.Handler, codes []string) {
	t.Helper()
	var wg sync.WaitGroup
	const workers = 8
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(codes); i += workers {
				if rec := get(h, "GET", testHost, "/"+codes[i]); rec.Code != http.StatusNotFound {
					errs <- fmt.Sprintf("GET /%s = %d, want 404", codes[i], rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// While PostgreSQL is slow (here: urls locked), a flood of random codes takes at most
// MaxConcurrentMisses lookups; every further miss answers 503 with Retry-After at once, counted
// as shed, and never reaches PostgreSQL. Links in memory and in Redis keep answering.
func TestMissesBeyondTheBoundAreShed(t *testing.T) {
	t.Parallel()
	const bound, shed = 4, 20
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{
		MaxConcurrentMisses: bound, DBTimeout: 10 * time.Minute, PollInterval: noPoll, NegativeTTL: time.Hour,
	}, false, nil), redirect.Config{})
	f.declare(link("hot", target("hot")))
	if rec := get(h, "GET", testHost, "/hot"); rec.Code != http.StatusFound {
		t.Fatalf("warming hot = %d", rec.Code)
	}
	f.declare(link("in-redis", target("in-redis"))) // in Redis, not yet in memory

	before := f.lookupCalls()
	release := f.lockURLs()
	admitted := make(chan int, bound)
	for i := range bound {
		go func() { admitted <- get(h, "GET", testHost, fmt.Sprintf("/wait%d", i)).Code }()
	}
	eventually(t, "the admitted lookups waiting for the lock", func() bool { return f.waitingForLocks() == bound })

	for i := range shed {
		rec := get(h, "GET", testHost, fmt.Sprintf("/flood%d", i))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("miss beyond the bound = %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	for _, code := range []string{"hot", "in-redis"} {
		if rec := get(h, "GET", testHost, "/"+code); rec.Code != http.StatusFound || rec.Header().Get("Location") != target(code) {
			t.Fatalf("known link %s during the flood = %d %q", code, rec.Code, rec.Header().Get("Location"))
		}
	}
	if n := f.metric("shortlink_redirect_requests_total", map[string]string{"result": "shed"}); n != shed {
		t.Fatalf("shortlink_redirect_requests_total{result=shed} = %v, want %d", n, shed)
	}

	release()
	for range bound {
		if code := <-admitted; code != http.StatusNotFound {
			t.Fatalf("an admitted unknown code = %d once PostgreSQL answered, want 404", code)
		}
	}
	if n := f.lookupCalls() - before; n != bound {
		t.Fatalf("PostgreSQL executed %d lookups during the flood; want the %d admitted", n, bound)
	}
	if rec := get(h, "GET", testHost, "/flood0"); rec.Code != http.StatusNotFound { // shed, not remembered
		t.Fatalf("a shed code once the flood is over = %d, want 404", rec.Code)
	}
}

// lockURLs takes an exclusive lock on urls, as a slow PostgreSQL would stall lookups, until the
// returned function is called (or the test ends).
func (f *fixture) lockURLs() (release func()) {
	f.t.Helper()
	ctx := context.Background()
	tx, err := f.writer.Pool().Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE urls IN ACCESS EXCLUSIVE MODE"); err != nil {
		f.t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(ctx) }) }
	f.t.Cleanup(release)
	return release
}

// waitingForLocks counts the sessions of the fixture's database waiting for a lock.
func (f *fixture) waitingForLocks() int {
	f.t.Helper()
	var n int
	err := f.writer.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}
