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
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// million: 1,000,000 links, every one in Redis (and PostgreSQL), requested with Zipf
// popularity (s = 1.01), by a redirector whose in-process cache is bounded at 64 MiB (issue 21).
//
// The redirector runs as in a pod with a 200 MiB memory limit, under the soft limit tuneGC
// would set there (GOMEMLIMIT, 90 %): peak RSS is the goal's ≤ 200 MB. Its cache is first
// filled with the most popular links, one request each, up to its bound: the steady state of a
// pod that has served this traffic for longer than the in-process TTL (5 minutes), in which
// links less popular than those are requested less than once a TTL and are read from Redis
// whatever the cache's size. The heap those links added, per link, is measured on the way.
// Then it is measured against the bare 302 server as the hot scenario is. The smoke run takes
// 20,000 links into 1 MiB.
func (r *redirectRun) million(ctx context.Context) ([]Result, error) {
	n, cacheBytes := 1_000_000, 64<<20
	if r.h.smoke {
		n, cacheBytes = 20_000, 1<<20
	}
	if err := r.loadLinks(ctx, "m", n); err != nil {
		return nil, err
	}
	script, err := writeScriptFor(r.env.RunDir, "million", "m", n, true)
	if err != nil {
		return nil, err
	}
	s, err := r.startRedirectorEnv(ctx, "redirector-million", []string{"GOMEMLIMIT=180MiB"},
		"--local-cache-bytes", strconv.Itoa(cacheBytes))
	if err != nil {
		return nil, err
	}
	defer func() { _ = s.proc.Stop() }()
	perLink, err := r.fillMillion(ctx, s, n)
	if err != nil {
		return nil, err
	}
	hitsBefore, lookupsBefore, err := localLookups(ctx, s)
	if err != nil {
		return nil, err
	}
	a, b, err := r.compare(ctx, s, r.bare, script)
	if err != nil {
		return nil, err
	}
	hits, lookups, err := localLookups(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := r.profile(ctx, s, script, "redirect-million"); err != nil {
		return nil, err
	}
	res, err := r.millionResult(ctx, s, a, b, perLink, n, cacheBytes)
	if len(res) > 0 {
		res[0].Details["local_hit_ratio"] = (hits - hitsBefore) / max(lookups-lookupsBefore, 1)
	}
	return res, err
}

// localLookups is what s's in-process cache answered so far: hits, and every lookup.
func localLookups(ctx context.Context, s *server) (hits, all float64, err error) {
	m, err := scrape(ctx, s.metrics+"/metrics")
	if err != nil {
		return 0, 0, err
	}
	local := func(l string) bool { return strings.Contains(l, `tier="local"`) }
	hits = sumMetric(m, "shortlink_cache_requests_total", func(l string) bool { return local(l) && strings.Contains(l, `result="hit"`) })
	return hits, sumMetric(m, "shortlink_cache_requests_total", local), nil
}

// fillMillion requests m1, m2, … (up to m<n>) once each, the most popular links first, until the cache is
// about full (its weight within a step of its bound, so that none is evicted yet), and returns
// the live heap they added per cached link. The heap before is taken after the same request
// rate on 1,000 other links, so the buffers and batches a request rate grows are in both
// figures.
func (r *redirectRun) fillMillion(ctx context.Context, s *server, n int) (float64, error) {
	hot, err := writeScript(r.env.RunDir, "million-warm", 1000, false)
	if err != nil {
		return 0, err
	}
	if _, err := runWrk(ctx, hot, s.url, r.runFor); err != nil {
		return 0, err
	}
	heapBefore, entriesBefore, err := r.liveHeap(ctx, s)
	if err != nil {
		return 0, err
	}
	for filled, step := 0, 16_384; step > 0; {
		paths := make([]string, step)
		for i := range paths {
			paths[i] = "m" + strconv.Itoa(filled+i+1)
		}
		counts, err := exactLoad(ctx, s.url, benchHost, paths, step, 32)
		if err != nil {
			return 0, err
		}
		if counts[http.StatusFound] != step {
			return 0, fmt.Errorf("filling the cache: answers %v, want %d redirects%s", counts, step, s.answers(ctx))
		}
		filled += step
		if step, err = nextFill(ctx, s); err != nil {
			return 0, err
		}
		step = min(step, n-filled)
	}
	heapAfter, entriesAfter, err := r.liveHeap(ctx, s)
	if err != nil {
		return 0, err
	}
	return (heapAfter - heapBefore) / max(entriesAfter-entriesBefore, 1), nil
}

// nextFill is how many more links s's cache has room for, up to 16,384, less a step of
// margin: the weight grows by whole chunks. 0 when it is about full.
func nextFill(ctx context.Context, s *server) (int, error) {
	m, err := scrape(ctx, s.metrics+"/metrics")
	if err != nil {
		return 0, err
	}
	bytes, limit := plainMetric(m, "shortlink_local_cache_bytes"), plainMetric(m, "shortlink_local_cache_limit_bytes")
	entries := plainMetric(m, "shortlink_local_cache_entries")
	room := int((limit-bytes)/max(bytes/max(entries, 1), 1)) - 16_384
	return min(max(room, 0), 16_384), nil
}

func (r *redirectRun) millionResult(ctx context.Context, s *server, a, b sample, perLink float64, n, cacheBytes int) ([]Result, error) {
	m, err := scrape(ctx, s.metrics+"/metrics")
	if err != nil {
		return nil, err
	}
	rss, err := peakRSSMB(s.proc.Pid())
	if err != nil {
		return nil, err
	}
	eff := b.cpuUsPerReq / a.cpuUsPerReq
	res := result(fmt.Sprintf("redirect million: Zipf over %d links in Redis, %d MiB in memory", n, cacheBytes>>20), a, b,
		"bare net/http 302", "efficiency ≥ 0.75, peak RSS ≤ 200 MB, ≤ 256 heap bytes a cached link",
		eff >= 0.75 && rss <= 200 && perLink <= 256)
	res.Details["efficiency"] = eff
	res.Details["peak_rss_mb"] = rss
	res.Details["heap_bytes_per_cached_link"] = perLink
	res.Details["cached_links"] = plainMetric(m, "shortlink_local_cache_entries")
	res.Details["cache_weight_mib"] = plainMetric(m, "shortlink_local_cache_bytes") / (1 << 20)
	return []Result{res}, nil
}

// loadLinks declares n links (codes <prefix>1 … <prefix>n, 60-byte targets) as a running
// platform holds them: a row each in PostgreSQL, written by one statement, and an entry each in
// Redis in the cache's own form, healed from the change feed in pipelined pages as the
// redirectors heal it. The rows are there because
// Redis holds only what PostgreSQL can rebuild: a Redis read that times out under load falls
// through to PostgreSQL, which must then find the link.
func (r *redirectRun) loadLinks(ctx context.Context, prefix string, n int) error {
	conn, err := pgx.Connect(ctx, r.env.Postgres.URL("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var after int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM urls`).Scan(&after); err != nil {
		return fmt.Errorf("read the last version: %w", err)
	}
	// In transactions of 10,000, as imports through the API come: a redirector starts reading
	// the change feed at the transaction of the last 1,000 versions, which must not be all of it.
	const batch = 10_000
	for start := 1; start <= n; start += batch {
		_, err = conn.Exec(ctx, `INSERT INTO urls (domain, code, target, source, version, created_at)
			SELECT '', $1 || g, 'https://www.example.com/campaigns/2026/landing?id=' || lpad(g::text, 10, '0'),
				'api', nextval('urls_version_seq'), now()
			FROM generate_series($2::int, $3::int) g`, prefix, start, min(start+batch-1, n))
		if err != nil {
			return fmt.Errorf("load links: %w", err)
		}
	}
	// Settle PostgreSQL now rather than during the measurement: autovacuum would scan the new
	// rows, and the checkpoint write them, while lookups wait.
	for _, stmt := range []string{`VACUUM (ANALYZE) urls`, `CHECKPOINT`} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	st, err := store.Open(ctx, r.env.Postgres.URL("postgres"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	rdb := redis.NewClient(&redis.Options{Addr: r.env.Redis.Addr(), ReadTimeout: time.Minute})
	defer func() { _ = rdb.Close() }()
	c := cache.New(rdb, cache.Options{})
	for {
		rows, err := st.Changes(ctx, after, 5000)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return advanceHealCursor(ctx, st, c)
		}
		entries := make([]cache.Entry, len(rows))
		for i, row := range rows {
			entries[i] = cache.Entry{Link: row.Link, Deleted: row.Deleted}
		}
		if _, err := c.Heal(ctx, entries); err != nil {
			return fmt.Errorf("heal Redis: %w", err)
		}
		after = rows[len(rows)-1].Version
	}
}

// advanceHealCursor raises Redis's heal cursor past the links just healed, as the redirectors
// do once Redis holds every change below it: else the next redirector to start would heal
// them all again from the change feed, a million Redis writes during the measurement.
func advanceHealCursor(ctx context.Context, st *store.Store, c *cache.Cache) error {
	settled, err := st.Settled(ctx)
	if err != nil {
		return err
	}
	if err := c.AdvanceHealCursor(ctx, settled); err != nil {
		return fmt.Errorf("advance the heal cursor: %w", err)
	}
	return nil
}

// liveHeap is s's heap after a full collection (the heap profile's gc=1 runs one first) and the
// links its cache holds. The profile is kept in bin/bench/redirect-million-heap.pprof, to
// show where the heap goes.
func (r *redirectRun) liveHeap(ctx context.Context, s *server) (heap, entries float64, err error) {
	profile, err := scrape(ctx, s.metrics+"/debug/pprof/heap?gc=1")
	if err != nil {
		return 0, 0, err
	}
	if err := os.WriteFile(filepath.Join(r.h.binDir, "redirect-million-heap.pprof"), []byte(profile), 0o600); err != nil {
		return 0, 0, err
	}
	m, err := scrape(ctx, s.metrics+"/metrics")
	if err != nil {
		return 0, 0, err
	}
	return plainMetric(m, "go_memstats_heap_alloc_bytes"), plainMetric(m, "shortlink_local_cache_entries"), nil
}

func scrape(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// plainMetric is the value of a metric without labels in Prometheus text.
func plainMetric(text, name string) float64 {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}
