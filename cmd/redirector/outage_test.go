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
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// While PostgreSQL is down, 50,000 redirects with 8 KiB User-Agent and Referer headers each: the
// visits held stay within --stats-max-pending-bytes, the rest are dropped and counted, the
// process stays small and keeps answering, and once PostgreSQL is back the held visits are
// written. Before, each held visit kept both headers whole, 800 MB for these requests.
func TestPostgresOutageBoundsHeldVisitBytes(t *testing.T) {
	const bound, requests, workers = 4 << 20, 50_000, 8
	env := localenv.ForTest(t, localenv.Options{Postgres: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	declare(t, env.Postgres.URL("postgres"), links.Link{
		Code: "big", Target: "https://example.com/big", RedirectType: http.StatusFound,
		Source: links.SourceK8s, Owner: "team-a/big", OwnerUID: "uid-big",
	})
	r := startProcess(t, env, "redirector-outage", "--database-url", env.Postgres.URL("postgres"), "--database-direct",
		"--default-domain", "sho.rt", "--stats-max-pending-bytes", strconv.Itoa(bound))
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: workers},
	}
	defer client.CloseIdleConnections()
	header := strings.Repeat("h", 8<<10)
	get := func() int {
		req := mustRequest(t, "http://"+r.addr+"/big")
		req.Host = "sho.rt"
		req.Header.Set("User-Agent", header)
		req.Header.Set("Referer", "https://example.com/"+header)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if status := get(); status != http.StatusFound { // the link is in memory from now on
		t.Fatalf("GET /big = %d", status)
	}
	scrape := func(name string) float64 { return scrapeMetric(t, client, "http://"+r.metricsAddr+"/metrics", name) }
	eventually(t, "the first visit flushed", func() bool { return scrape("shortlink_stats_pending_visits") == 0 })

	startPostgres := localenv.StopForTest(t, env.Postgres)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for sent.Add(1) <= requests {
				if status := get(); status != http.StatusFound {
					t.Errorf("GET /big during the outage = %d", status)
					return
				}
				if w == 0 && sent.Load()%1000 == 0 {
					if b := scrape("shortlink_stats_pending_bytes"); b > bound {
						t.Errorf("pending bytes = %v during the flood, beyond the bound %d", b, bound)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if status := get(); status != http.StatusFound || r.Exited() {
		t.Fatalf("after the flood: GET /big = %d, exited %v", status, r.Exited())
	}
	held, dropped := scrape("shortlink_stats_pending_visits"), scrape("shortlink_stats_dropped_visits_total")
	if b := scrape("shortlink_stats_pending_bytes"); b > bound || b == 0 {
		t.Fatalf("pending bytes = %v after the flood; want within (0, %d]", b, bound)
	}
	if held+dropped != requests+1 || dropped == 0 {
		t.Fatalf("held %v + dropped %v visits; want %d, some dropped", held, dropped, requests+1)
	}
	if rss := r.peakRSS(t); rss > 256<<20 {
		t.Fatalf("peak resident memory %d MiB; want it well under what 50,000 whole headers take", rss>>20)
	}
	if r.logged(t, "Visits dropped: the bound of held visits is reached while PostgreSQL is unavailable") == 0 {
		t.Fatalf("the drops were not logged:\n%s", r.LogTail())
	}

	startPostgres()
	eventually(t, "the held visits flushed", func() bool { return scrape("shortlink_stats_pending_visits") == 0 })
	if got, want := urlStatsVisits(t, env.Postgres.URL("postgres"), "big"), int64(held)+1; got != want {
		t.Fatalf("url_stats holds %d visits of big; want the first and the %v held: %d", got, held, want)
	}
	if code := r.waitExit(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, r.LogTail())
	}
}

// scrapeMetric reads the value of an unlabelled metric from a /metrics page.
func scrapeMetric(t *testing.T, client *http.Client, url, name string) float64 {
	t.Helper()
	_, _, body := fetch(t, client, mustRequest(t, url))
	for line := range strings.SplitSeq(body, "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s in the metrics", name)
	return 0
}

// urlStatsVisits is the url_stats count of code on the default domain.
func urlStatsVisits(t *testing.T, url, code string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(visits), 0)::bigint FROM url_stats WHERE domain = '' AND code = $1`,
		code).Scan(&n); err != nil {
		t.Fatal(fmt.Errorf("read url_stats: %w", err))
	}
	return n
}
