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
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

const (
	failoverBurst  = 4
	hotTarget      = "https://example.com/hot-before"
	hotTargetAfter = "https://example.com/hot-after"
	// redisOnlyLinks are written to Redis alone: one answers 302 only when Redis does. Each
	// probe asks a code never asked before, so no in-process entry can answer for Redis.
	redisOnlyLinks = 3000
)

// Two redirectors on a Sentinel-managed Redis, under load, while the master is killed with
// SIGKILL and Sentinel promotes the replica: redirects of a link held in memory never fail;
// links held only in Redis answer again once the failover completes (the test logs how long
// that took); an invalidation published after the failover reaches both redirectors, with the
// change-feed poll and memory expiry pushed out of the test's reach so that only pub/sub can
// deliver it; and the API's rate limit is shared through Redis again.
func TestRedisSentinelFailoverUnderLoad(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, RedisSentinel: &localenv.RedisSentinelOptions{Password: "failover-test"}})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	hot := links.Link{Code: "hot", Target: hotTarget, RedirectType: http.StatusFound, Source: links.SourceK8s, Owner: "team-a/hot", OwnerUID: "uid-hot"}
	declare(t, env.Postgres.URL("postgres"), hot)
	rdb, err := cache.NewUniversalClient(env.RedisSentinel.URL(), cache.ClientOptions{Name: "failover-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	writeRedisOnlyLinks(ctx, t, rdb)
	if n, err := rdb.Do(ctx, "WAIT", 1, 30000).Int(); err != nil || n < 1 {
		t.Fatalf("WAIT for the replica = %d, %v", n, err)
	}
	client, rs := startHARedirectors(t, env, env.RedisSentinel.URL())

	load := startLoad(t, client, rs[:])
	killed := time.Now()
	if err := env.RedisSentinel.Master.Kill(); err != nil {
		t.Fatal(err)
	}
	recovered := probeUntilRedisAnswers(t, client, rs[:])
	t.Logf("Links held only in Redis answered again %s after the master was killed", recovered.Sub(killed).Round(time.Millisecond))
	if addr, err := env.RedisSentinel.MasterAddr(ctx); err != nil || addr != env.RedisSentinel.Replica.Addr() {
		t.Fatalf("sentinels name master %s, %v; want the promoted replica %s", addr, err, env.RedisSentinel.Replica.Addr())
	}

	for _, r := range rs {
		eventually(t, "the redirector subscribed again after the failover", func() bool { return subscriptions(t, r) >= 2 })
	}
	assertInvalidationReachesBoth(ctx, t, env, rdb, client, rs[:])
	assertRateLimitShared(ctx, t, rdb, client, rs[:])

	total, failed := load.stop()
	t.Logf("%d redirects of /hot under load, %d failed; %d API requests, %d failed", total, failed, load.apiTotal.Load(), load.apiFailed.Load())
	if failed != 0 || total == 0 {
		t.Fatalf("%d of %d redirects of a link held in memory failed during the failover", failed, total)
	}
	if load.apiFailed.Load() != 0 || load.apiTotal.Load() == 0 {
		t.Fatalf("%d of %d API requests answered neither 404 nor 429 during the failover", load.apiFailed.Load(), load.apiTotal.Load())
	}
	fellBack := 0
	for _, r := range rs {
		fellBack += r.logged(t, "Redis unavailable; API rate limits are enforced per process")
	}
	if fellBack == 0 {
		t.Fatal("no redirector enforced its share of the rate limits while the master was gone")
	}
}

// Two redirectors on a three-master Redis Cluster: links held only in Redis answer, whichever
// node holds them; an invalidation published through the cluster reaches both; the API's rate
// limit is one limit between them.
func TestRedirectorsOnRedisCluster(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, RedisCluster: &localenv.RedisClusterOptions{Password: "cluster-test"}})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	declare(t, env.Postgres.URL("postgres"), links.Link{Code: "hot", Target: hotTarget, RedirectType: http.StatusFound,
		Source: links.SourceK8s, Owner: "team-a/hot", OwnerUID: "uid-hot"})
	rdb, err := cache.NewUniversalClient(env.RedisCluster.URL(), cache.ClientOptions{Name: "cluster-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	writeRedisOnlyLinks(ctx, t, rdb)
	client, rs := startHARedirectors(t, env, env.RedisCluster.URL())
	for i := 1; i < 100; i++ { // a hundred codes, on every node
		if loc := redirectTo(t, client, rs[i%2], fmt.Sprintf("r-%d", i)); loc != fmt.Sprintf("https://example.com/r/%d", i) {
			t.Fatalf("GET /r-%d, held only in the cluster: Location %q", i, loc)
		}
	}
	assertInvalidationReachesBoth(ctx, t, env, rdb, client, rs[:])
	assertRateLimitShared(ctx, t, rdb, client, rs[:])
}

// startHARedirectors starts two redirectors on redisURL, waits until both have subscribed to
// invalidations, and checks that both serve /hot from PostgreSQL and r-0 from Redis.
func startHARedirectors(t *testing.T, env *localenv.Env, redisURL string) (*http.Client, [2]*redirectorProcess) {
	t.Helper()
	var rs [2]*redirectorProcess
	for i := range rs {
		rs[i] = startProcess(t, env, fmt.Sprintf("redirector-ha-%d", i), haArgs(t, env, redisURL)...)
	}
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 8},
	}
	t.Cleanup(client.CloseIdleConnections)
	for _, r := range rs {
		eventually(t, "the redirector subscribed", func() bool { return subscriptions(t, r) >= 1 })
		if loc := redirectTo(t, client, r, "hot"); loc != hotTarget {
			t.Fatalf("GET /hot: Location %q", loc)
		}
		if loc := redirectTo(t, client, r, "r-0"); loc == "" {
			t.Fatal("a link held only in Redis does not answer")
		}
	}
	return client, rs
}

func haArgs(t *testing.T, env *localenv.Env, redisURL string) []string {
	t.Helper()
	dir := t.TempDir()
	keys, codeKey := filepath.Join(dir, "keys"), filepath.Join(dir, "code-key")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(codeKey, []byte("a-secret-of-enough-bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"--database-url", env.PgBouncer.URL("postgres"), "--redis-url", redisURL, "--default-domain", "sho.rt",
		// Only pub/sub may deliver the invalidation: no poll and no expiry within the test.
		"--poll-interval", "1h", "--local-cache-ttl", "1h",
		"--api", "--api-keys-file", keys, "--api-code-key-file", codeKey,
		// One request refills in 1000 s: what is allowed depends on counts alone.
		"--api-ip-rate", "0.001", "--api-ip-burst", fmt.Sprint(failoverBurst), "--api-key-rate", "0",
		"--api-trusted-proxies", "127.0.0.0/8", "--api-replicas", "2",
	}
}

// writeRedisOnlyLinks writes r-0 … r-N to Redis.
func writeRedisOnlyLinks(ctx context.Context, t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	entries := make([]cache.Entry, redisOnlyLinks)
	for i := range entries {
		entries[i] = cache.Entry{Link: links.Link{Code: fmt.Sprintf("r-%d", i), Target: fmt.Sprintf("https://example.com/r/%d", i),
			RedirectType: http.StatusFound, Version: 1}}
	}
	if _, err := cache.New(rdb, cache.Options{}).Heal(ctx, entries); err != nil {
		t.Fatal(err)
	}
}

// subscriptions counts the redirector's (re)subscriptions to invalidations.
func subscriptions(t *testing.T, r *redirectorProcess) int {
	return r.logged(t, "Subscribed to invalidations; flushed the in-process cache")
}

// redirectTo GETs /code on r and returns the Location of a 302, or "" for any other answer.
func redirectTo(t *testing.T, client *http.Client, r *redirectorProcess, code string) string {
	t.Helper()
	req := mustRequest(t, "http://"+r.addr+"/"+code)
	req.Host = "sho.rt"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET /%s: %v", code, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return ""
	}
	return resp.Header.Get("Location")
}

// probeUntilRedisAnswers asks each redirector in turn for a link held only in Redis, a new
// one each time, until one answers 302, and returns when that was.
func probeUntilRedisAnswers(t *testing.T, client *http.Client, rs []*redirectorProcess) time.Time {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 1; i < redisOnlyLinks; i++ {
		if redirectTo(t, client, rs[i%len(rs)], fmt.Sprintf("r-%d", i)) != "" {
			return time.Now()
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("links held only in Redis never answered again after the failover")
	return time.Time{}
}

// assertInvalidationReachesBoth changes /hot as the manager does — the row, then Redis, then
// an invalidation — and waits for both redirectors to redirect to the new target.
func assertInvalidationReachesBoth(ctx context.Context, t *testing.T, env *localenv.Env, rdb redis.UniversalClient, client *http.Client, rs []*redirectorProcess) {
	t.Helper()
	s, err := store.Open(ctx, env.Postgres.URL("postgres"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hot := links.Link{Code: "hot", Target: hotTargetAfter, RedirectType: http.StatusFound, Source: links.SourceK8s, Owner: "team-a/hot", OwnerUID: "uid-hot"}
	res, err := s.UpsertDeclared(ctx, store.Declared{Link: hot, CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), InstallID: "test"})
	if err != nil || !res.Changed {
		t.Fatalf("update /hot = %+v, %v", res, err)
	}
	hot.Version = res.Version
	c := cache.New(rdb, cache.Options{})
	if _, err := c.Set(ctx, hot); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, cache.Invalidation{Code: "hot", Version: res.Version}); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		eventually(t, fmt.Sprintf("redirector %d to follow the invalidation", i), func() bool {
			return redirectTo(t, client, r, "hot") == hotTargetAfter
		})
		if n := scrapeLabelled(t, client, r, `shortlink_invalidations_total{source="pubsub"}`); n < 1 {
			t.Fatalf("redirector %d counted %v pub/sub invalidations", i, n)
		}
	}
}

// assertRateLimitShared waits until both redirectors decide in Redis again, then checks that
// they allow one burst between them.
func assertRateLimitShared(ctx context.Context, t *testing.T, rdb redis.UniversalClient, client *http.Client, rs []*redirectorProcess) {
	t.Helper()
	ask := func(r *redirectorProcess, ip string) int {
		req := mustRequest(t, "http://"+r.apiAddrOrAddr()+"/api/v1/links/nope")
		req.Host = "sho.rt"
		req.Header.Set("Authorization", "Bearer 0123456789abcdef")
		req.Header.Set("X-Forwarded-For", ip)
		status, _, body := fetch(t, client, req)
		if status != http.StatusNotFound && status != http.StatusTooManyRequests {
			t.Fatalf("API answered %d %s; want 404 or 429", status, body)
		}
		return status
	}
	probe := 0
	eventually(t, "both redirectors to decide in Redis again", func() bool {
		probe++
		ip := fmt.Sprintf("198.18.%d.%d", probe/250, probe%250) // a fresh bucket each time
		for _, r := range rs {
			ask(r, ip)
		}
		// Both requests counted in Redis leave the bucket two intervals (2000 s) from full.
		ttl, err := rdb.PTTL(ctx, cache.RateLimitKeyPrefix+"ip:"+ip).Result()
		return err == nil && ttl > 1500*time.Second
	})
	allowed := 0
	for range 3 * failoverBurst {
		for _, r := range rs {
			if ask(r, "203.0.113.9") == http.StatusNotFound {
				allowed++
			}
		}
	}
	if allowed != failoverBurst {
		t.Fatalf("after the failover the two redirectors allowed %d; want one burst of %d between them", allowed, failoverBurst)
	}
}

func (r *redirectorProcess) apiAddrOrAddr() string {
	if r.apiAddr != "" {
		return r.apiAddr
	}
	return r.addr
}

// scrapeLabelled reads one labelled sample from r's /metrics.
func scrapeLabelled(t *testing.T, client *http.Client, r *redirectorProcess, series string) float64 {
	t.Helper()
	_, _, body := fetch(t, client, mustRequest(t, "http://"+r.metricsAddr+"/metrics"))
	for line := range strings.SplitSeq(body, "\n") {
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(value, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// A Redis URL the client cannot use stops the redirector at start-up, naming the flag and what
// is wrong, never the password.
func TestBadRedisURLIsRefusedAtStart(t *testing.T) {
	for url, want := range map[string]string{
		"redis-sentinel://:hunter2@s1:26379,s2:26379": "master name",
		"rediss-cluster://:hunter2@n1:6379?addr=n2:1": "addr",
	} {
		err := run(context.Background(), []string{"--redis-url", url}, func(k string) string {
			return map[string]string{"DATABASE_URL": "postgres://x/db"}[k]
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--redis-url") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("--redis-url %s: run = %v; want an error naming --redis-url and %q, without the password", url, err, want)
		}
	}
}
