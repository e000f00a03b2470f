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
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// A redirector whose in-process cache is bounded at 1 MiB, asked for 20,000 links held only in
// Redis (about 5 MiB of entries): its cache stays within the bound, by its own weight, and
// every link redirects to its target, those it no longer holds read again from Redis.
func TestLocalCacheStaysWithinItsByteBound(t *testing.T) {
	const bound, n, workers = 1 << 20, 20_000, 8
	env := localenv.ForTest(t, localenv.Options{Postgres: true, Redis: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	targets := loadRedisLinks(t, env.Redis.Addr(), n)
	r := startProcess(t, env, "redirector-cache-bytes", "--database-url", env.Postgres.URL("postgres"), "--database-direct",
		"--redis-url", env.Redis.URL(), "--default-domain", "sho.rt", "--stats=false",
		"--local-cache-bytes", strconv.Itoa(bound))
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: workers},
	}
	defer client.CloseIdleConnections()
	scrape := func(name string) float64 { return scrapeMetric(t, client, "http://"+r.metricsAddr+"/metrics", name) }

	for pass := range 2 { // the second pass finds the first links evicted
		requestAll(t, client, r.addr, targets, workers)
		eventually(t, fmt.Sprintf("the cache within %d bytes after pass %d", bound, pass+1), func() bool {
			return scrape("shortlink_local_cache_bytes") <= bound
		})
	}
	if got := scrape("shortlink_local_cache_limit_bytes"); got != bound {
		t.Errorf("shortlink_local_cache_limit_bytes = %.0f, want %d", got, bound)
	}
	held, entries := scrape("shortlink_local_cache_bytes"), scrape("shortlink_local_cache_entries")
	t.Logf("the cache holds %.0f bytes in %.0f links", held, entries)
	if held < bound/2 || entries < 1000 || entries >= n {
		t.Errorf("the cache holds %.0f bytes in %.0f links; want it used (over half the bound) and bounded", held, entries)
	}
	if hits := scrape(`shortlink_cache_requests_total{result="hit",tier="redis"}`); hits < n+n/2 {
		t.Errorf("%.0f Redis hits for %d requests of %d links; want the evicted links read again from Redis", hits, 2*n, n)
	}
}

// loadRedisLinks writes n links (codes l0 … l<n-1>, 60-byte targets) straight into Redis, as
// the operator and the change feed's heal write them, and returns the targets by code.
func loadRedisLinks(t *testing.T, addr string, n int) map[string]string {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer func() { _ = rdb.Close() }()
	c := cache.New(rdb, cache.Options{})
	targets := make(map[string]string, n)
	page := make([]cache.Entry, 0, 1000)
	for i := range n {
		l := links.Link{Code: fmt.Sprintf("l%d", i), RedirectType: http.StatusFound, Version: 1,
			Target: fmt.Sprintf("https://www.example.com/campaigns/2026/landing?id=%010d", i)}
		targets[l.Code] = l.Target
		if page = append(page, cache.Entry{Link: l}); len(page) == cap(page) || i == n-1 {
			if _, err := c.Heal(context.Background(), page); err != nil {
				t.Fatal(err)
			}
			page = page[:0]
		}
	}
	return targets
}

// requestAll asks for every code once from `workers` goroutines and checks each answer is a
// 302 to the code's target.
func requestAll(t *testing.T, client *http.Client, addr string, targets map[string]string, workers int) {
	t.Helper()
	codes := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for code := range codes {
				req := mustRequest(t, "http://"+addr+"/"+code)
				req.Host = "sho.rt"
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != targets[code] {
					t.Errorf("GET /%s = %d to %q, want 302 to %q", code, resp.StatusCode, resp.Header.Get("Location"), targets[code])
				}
			}
		}()
	}
	for code := range targets {
		codes <- code
	}
	close(codes)
	wg.Wait()
}
