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
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

const otherKey = "other-key-0123456789"

// slowLimit refills one request in 1000 s: no test sees a refill, so what is allowed depends
// on counts alone, never on how fast the machine is.
func slowLimit(burst int) cache.Limit { return cache.Limit{Rate: 0.001, Burst: burst} }

// limitedAPI is one replica's API handler with rate limits in a Redis shared with others.
type limitedAPI struct {
	h   http.Handler
	reg *prometheus.Registry
	st  *store.Store
}

// newLimitedAPIs builds n API handlers as n replicas would run them: each with its own Redis
// client, limiter (configured for n replicas) and metrics, all on one database and one Redis.
func newLimitedAPIs(t *testing.T, redisURL string, n int, cfg api.Config) []limitedAPI {
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
	st := openStore(t, env.PgBouncer.URL(name), store.Options{ViaPgBouncer: true, MaxConns: 4})
	codec, err := links.NewCodec([]byte("api-test-codec-secret"), 6)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := api.LoadKeys(strings.NewReader("tester:" + testKey + "\nother:" + otherKey + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Site = links.MustSite(testHost)
	out := make([]limitedAPI, n)
	for i := range out {
		rdb, err := cache.NewClient(redisURL, cache.ClientOptions{Name: fmt.Sprintf("api-test-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		// A generous timeout: a loaded test machine must not make a replica fall back by accident.
		limiter := cache.NewRateLimiter(rdb, cache.RateLimiterOptions{Replicas: n, Timeout: 5 * time.Second, CoolDown: 50 * time.Millisecond})
		out[i].reg, out[i].st = prometheus.NewRegistry(), st
		out[i].h, err = api.NewHandler(api.Deps{
			Store: st, Codec: codec, Keys: keys, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
			Metrics: api.NewMetrics(out[i].reg), Limiter: limiter,
			Config: cfg,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// send asks h for a link that does not exist (404 once past the limits) from client, with key.
func send(h http.Handler, client, key string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/links/nope", nil)
	req.Host = testHost
	req.RemoteAddr = client
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkRefusal fails unless rec is a 429 with a JSON error, Retry-After and RateLimit-* headers.
func checkRefusal(t *testing.T, rec *httptest.ResponseRecorder, limit int) {
	t.Helper()
	h := rec.Header()
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	var body api.ErrorResponse
	if rec.Code != http.StatusTooManyRequests || err != nil || retry < 1 ||
		h.Get("RateLimit-Limit") != strconv.Itoa(limit) || h.Get("RateLimit-Remaining") != "0" || h.Get("RateLimit-Reset") == "" ||
		json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error == "" {
		t.Fatalf("refusal = %d %v %s; want 429, Retry-After ≥ 1 s, RateLimit-Limit %d, RateLimit-Remaining 0 and a JSON error",
			rec.Code, h, rec.Body, limit)
	}
}

// metricValue reads the counter name from reg; with a scope, the series of that scope.
func metricValue(t *testing.T, reg *prometheus.Registry, name, scope string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if scope == "" || len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == scope {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func limited(t *testing.T, reg *prometheus.Registry, scope string) float64 {
	t.Helper()
	return metricValue(t, reg, "shortlink_api_rate_limited_total", scope)
}

func TestRateLimitHeadersCountDown(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	h := newLimitedAPIs(t, r.URL(), 1, api.Config{IPLimit: slowLimit(3)})[0].h
	for i := range 3 {
		rec := send(h, "198.51.100.7:1000", testKey)
		if rec.Code != http.StatusNotFound || rec.Header().Get("RateLimit-Limit") != "3" ||
			rec.Header().Get("RateLimit-Remaining") != strconv.Itoa(2-i) || rec.Header().Get("RateLimit-Reset") == "" {
			t.Fatalf("request %d = %d %v; want 404 with RateLimit-Limit 3, RateLimit-Remaining %d", i+1, rec.Code, rec.Header(), 2-i)
		}
	}
	checkRefusal(t, send(h, "198.51.100.7:2000", testKey), 3)
	if rec := send(h, "198.51.100.8:1000", testKey); rec.Code != http.StatusNotFound {
		t.Fatalf("another client = %d, want 404: a bucket of its own", rec.Code)
	}
}

// Two replicas sharing Redis allow the burst between them, not a burst each.
func TestRateLimitIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	const burst, requests = 10, 40
	apis := newLimitedAPIs(t, r.URL(), 2, api.Config{IPLimit: slowLimit(burst)})
	recs := make([]*httptest.ResponseRecorder, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { recs[i] = send(apis[i%2].h, "203.0.113.50:"+strconv.Itoa(1000+i), testKey) })
	}
	wg.Wait()
	allowed := 0
	for _, rec := range recs {
		switch rec.Code {
		case http.StatusNotFound:
			allowed++
		case http.StatusTooManyRequests:
			checkRefusal(t, rec, burst)
		default:
			t.Fatalf("answer %d %s; want 404 or 429", rec.Code, rec.Body)
		}
	}
	if allowed != burst {
		t.Fatalf("%d of %d requests allowed across two instances; want the burst, %d", allowed, requests, burst)
	}
	if got := limited(t, apis[0].reg, "ip") + limited(t, apis[1].reg, "ip"); got != requests-burst {
		t.Fatalf("shortlink_api_rate_limited_total{scope=ip} = %v in all, want %d", got, requests-burst)
	}
}

// The per-key limit follows a key across addresses; a flood without a valid key is limited by
// address, in a bucket of its own.
func TestKeyAndUnauthenticatedLimits(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	a := newLimitedAPIs(t, r.URL(), 1, api.Config{IPLimit: slowLimit(4), KeyLimit: slowLimit(3)})[0]
	for i := range 3 {
		if rec := send(a.h, fmt.Sprintf("192.0.2.%d:1", i+1), testKey); rec.Code != http.StatusNotFound ||
			rec.Header().Get("RateLimit-Limit") != "3" || rec.Header().Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("keyed request %d = %d %v; want 404 showing the key's limit", i+1, rec.Code, rec.Header())
		}
	}
	checkRefusal(t, send(a.h, "192.0.2.9:1", testKey), 3)
	if rec := send(a.h, "192.0.2.9:1", otherKey); rec.Code != http.StatusNotFound {
		t.Fatalf("another key = %d, want 404: a bucket of its own", rec.Code)
	}

	for i := range 4 {
		if rec := send(a.h, "198.51.100.66:1", "no-such-key-0123456789"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("unknown key, request %d = %d, want 401", i+1, rec.Code)
		}
	}
	checkRefusal(t, send(a.h, "198.51.100.66:1", ""), 4)
	if limited(t, a.reg, "key") != 1 || limited(t, a.reg, "anon") != 1 || limited(t, a.reg, "ip") != 0 {
		t.Fatalf("rate_limited_total: key %v, anon %v, ip %v; want 1, 1 and 0",
			limited(t, a.reg, "key"), limited(t, a.reg, "anon"), limited(t, a.reg, "ip"))
	}
}

// X-Forwarded-For names the client only behind a trusted proxy; one IPv6 client is its /64.
func TestRateLimitClientBehindProxies(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	trusted, err := api.ParseTrustedProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	h := newLimitedAPIs(t, r.URL(), 1, api.Config{IPLimit: slowLimit(2), TrustedProxies: trusted})[0].h
	xff := "X-Forwarded-For"
	send(h, "10.0.0.1:1", testKey, xff, "203.0.113.1")
	send(h, "10.0.0.2:1", testKey, xff, "6.6.6.6, 203.0.113.1") // a spoofed left part changes nothing
	checkRefusal(t, send(h, "10.0.0.3:1", testKey, xff, "203.0.113.1, 10.0.0.9"), 2)
	if rec := send(h, "10.0.0.1:1", testKey, xff, "203.0.113.2"); rec.Code != http.StatusNotFound {
		t.Fatalf("another client behind the proxy = %d, want 404", rec.Code)
	}
	// Not behind a trusted proxy: the header is the client's own claim.
	send(h, "198.51.100.1:1", testKey, xff, "203.0.113.3")
	send(h, "198.51.100.1:1", testKey, xff, "203.0.113.4")
	checkRefusal(t, send(h, "198.51.100.1:1", testKey, xff, "203.0.113.5"), 2)

	send(h, "[2001:db8:5:6::1]:1", testKey)
	send(h, "[2001:db8:5:6:ffff::2]:1", testKey)
	checkRefusal(t, send(h, "[2001:db8:5:6::3]:1", testKey), 2)
	if rec := send(h, "[2001:db8:5:7::1]:1", testKey); rec.Code != http.StatusNotFound {
		t.Fatalf("another /64 = %d, want 404", rec.Code)
	}
}

// With Redis down each replica enforces its share of the limit, nothing answers 5xx, and the
// shared limit is back once Redis is.
func TestRateLimitSurvivesRedisOutage(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	const burst, replicas = 10, 2
	apis := newLimitedAPIs(t, r.URL(), replicas, api.Config{IPLimit: slowLimit(burst)})
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	if rec := send(apis[0].h, "203.0.113.1:1", testKey); rec.Code != http.StatusNotFound {
		t.Fatalf("with Redis up = %d, want 404", rec.Code)
	}

	startRedis := localenv.StopForTest(t, r)
	for i, a := range apis {
		allowed := 0
		for range burst {
			switch rec := send(a.h, "203.0.113.2:1", testKey); rec.Code {
			case http.StatusNotFound:
				allowed++
			case http.StatusTooManyRequests:
				checkRefusal(t, rec, burst/replicas)
			default:
				t.Fatalf("replica %d with Redis down answered %d %s; want 404 or 429", i, rec.Code, rec.Body)
			}
		}
		if allowed != burst/replicas {
			t.Fatalf("replica %d allowed %d with Redis down, want its share, %d", i, allowed, burst/replicas)
		}
		if got := metricValue(t, a.reg, "shortlink_api_rate_limit_fallback_total", ""); got < burst {
			t.Fatalf("replica %d: shortlink_api_rate_limit_fallback_total = %v, want ≥ %d", i, got, burst)
		}
	}

	startRedis()
	n := 0
	eventually(t, "both replicas to decide in Redis again", func() bool {
		n++
		client := fmt.Sprintf("198.18.%d.%d", n/250, n%250) // a fresh bucket each time
		send(apis[0].h, client+":1", testKey)
		send(apis[1].h, client+":1", testKey)
		ttl, err := rdb.PTTL(ctx, cache.RateLimitKeyPrefix+"ip:"+client).Result()
		// Both requests in Redis leave the bucket two intervals (2000 s) from full.
		return err == nil && ttl > 1500*time.Second
	})
	allowed := 0
	for i := range 2 * burst {
		if send(apis[i%2].h, "203.0.113.3:1", testKey).Code == http.StatusNotFound {
			allowed++
		}
	}
	if allowed != burst {
		t.Fatalf("after Redis returned, %d allowed across both replicas; want the shared burst, %d", allowed, burst)
	}
}

// TestAnonymousFloodLeavesKeysIn: behind one address (an ingress, say), requests without a valid
// key use up their own bucket; a request with a key from that address still goes through, and
// is charged to its key first.
func TestAnonymousFloodLeavesKeysIn(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	a := newLimitedAPIs(t, r.URL(), 1, api.Config{IPLimit: slowLimit(3), KeyLimit: slowLimit(2)})[0]
	const ingress = "10.1.2.3:4000"
	refused := 0
	for range 10 {
		switch rec := send(a.h, ingress, "guessed-key-0123456789"); rec.Code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("flood without a key = %d %s; want 401 or 429", rec.Code, rec.Body)
		}
	}
	for i := range 2 {
		if rec := send(a.h, ingress, testKey); rec.Code != http.StatusNotFound {
			t.Fatalf("keyed request %d behind the flooded address = %d %s; want 404", i+1, rec.Code, rec.Body)
		}
	}
	if refused != 7 || limited(t, a.reg, "anon") != 7 {
		t.Fatalf("%d of the flood refused, anon refusals counted %v; want 7 and 7", refused, limited(t, a.reg, "anon"))
	}
	// The key's own bucket is charged first: its third request is refused by the key.
	checkRefusal(t, send(a.h, ingress, testKey), 2)
	if limited(t, a.reg, "key") != 1 || limited(t, a.reg, "ip") != 0 {
		t.Fatalf("rate_limited_total: key %v, ip %v; want 1 and 0", limited(t, a.reg, "key"), limited(t, a.reg, "ip"))
	}
	if rec := send(a.h, ingress, otherKey); rec.Code != http.StatusNotFound {
		t.Fatalf("another key behind the flooded address = %d, want 404", rec.Code)
	}
}

// postBatch sends a batch of n links with the test key from client.
func postBatch(h http.Handler, client, prefix string, n int) *httptest.ResponseRecorder {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"target": "https://example.com/%s/%d", "code": "%s%d"}`, prefix, i, prefix, i)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/links:batch", strings.NewReader(`{"links": [`+strings.Join(items, ",")+`]}`))
	req.Host = testHost
	req.RemoteAddr = client
	req.Header.Set("Authorization", "Bearer "+testKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestBatchCostsOneRequestPerLink: a batch is charged one request per link before anything is
// written; one the buckets cannot cover is refused whole with 429 and writes nothing.
func TestBatchCostsOneRequestPerLink(t *testing.T) {
	t.Parallel()
	r := localenv.ForTest(t, localenv.Options{Redis: true}).Redis
	a := newLimitedAPIs(t, r.URL(), 1, api.Config{KeyLimit: slowLimit(10)})[0]
	rows := func() int64 {
		t.Helper()
		var n int64
		if err := a.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM urls").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const client = "192.0.2.10:1"
	rec := postBatch(a.h, client, "big", 11)
	var e api.ErrorResponse
	if rec.Code != http.StatusTooManyRequests || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "links" || rows() != 0 {
		t.Fatalf("a batch over the burst = %d %s with %d rows; want 429 naming links, nothing written", rec.Code, rec.Body, rows())
	}
	if rec := postBatch(a.h, client, "a", 6); rec.Code != http.StatusOK || rows() != 6 {
		t.Fatalf("a batch of 6 = %d %s; want 200 and 6 rows", rec.Code, rec.Body)
	}
	rec = postBatch(a.h, client, "b", 5)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rows() != 6 {
		t.Fatalf("a batch of 5 beyond what is left = %d %s, %d rows; want 429 and still 6 rows", rec.Code, rec.Body, rows())
	}
	if limited(t, a.reg, "key") != 2 {
		t.Fatalf("rate_limited_total{scope=key} = %v, want 2", limited(t, a.reg, "key"))
	}
}
