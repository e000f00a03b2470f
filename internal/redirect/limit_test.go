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
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

const (
	personAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	botAgent    = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
)

// replicas are n redirectors sharing the fixture's Redis and PostgreSQL, each with its own
// resolver and in-process cache, as the pods of one Deployment.
func (f *fixture) replicas(n int) []http.Handler {
	hs := make([]http.Handler, n)
	for i := range hs {
		hs[i] = redirect.NewServer(redirect.Deps{
			Links: f.resolver(redirect.Options{}, true, nil), Visits: f.visits, Metrics: f.metrics, Logger: f.log(),
			VisitCounter: f.cache, VisitSeeds: f.reader,
			Config: redirect.Config{Site: links.MustSite(testHost)},
		})
	}
	return hs
}

// getAs sends one GET for code to h with the given User-Agent.
func getAs(h http.Handler, code, agent string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/"+code, nil)
	req.Host = testHost
	req.Header.Set("User-Agent", agent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A link with maxVisits=5 redirects exactly five people to its target across two replicas,
// however their clicks interleave, then answers as expired (expiredTarget); bots before and
// after never use up the limit (issue 18 item 4).
func TestMaxVisitsAcrossReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	l := link("camp", "https://shop.example.com/sale")
	l.MaxVisits, l.ExpiredTarget = 5, "https://shop.example.com/over"
	f.declare(l)
	hs := f.replicas(2)

	for i := range 6 {
		if rec := getAs(hs[i%2], "camp", botAgent); rec.Code != http.StatusFound || rec.Header().Get("Location") != l.Target {
			t.Fatalf("bot %d before the limit = %d %q, want 302 to the target", i, rec.Code, rec.Header().Get("Location"))
		}
	}
	locations := clickConcurrently(hs, "camp", 20)
	if locations[l.Target] != 5 || locations[l.ExpiredTarget] != 15 {
		t.Fatalf("20 people's clicks went to %v, want 5 to the target and 15 to expiredTarget", locations)
	}
	for i, h := range hs {
		rec := getAs(h, "camp", botAgent)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != l.ExpiredTarget {
			t.Fatalf("bot on replica %d after the limit = %d %q, want expiredTarget", i, rec.Code, rec.Header().Get("Location"))
		}
		if cc := rec.Header().Get("Cache-Control"); cc == "" || cc == "public" {
			t.Fatalf("Cache-Control of a limited link = %q, want it kept out of caches", cc)
		}
	}
	n, err := f.rdb.Get(context.Background(), cache.VisitCountKeyPrefix+":camp").Int64()
	if err != nil || n != 20 {
		t.Fatalf("shared count in Redis = %d, %v; want 20 people's visits", n, err)
	}
}

// clickConcurrently sends n people's GETs for code, spread over the replicas at once, and
// returns how many redirects went to each Location ("" for answers without one).
func clickConcurrently(hs []http.Handler, code string, n int) map[string]int {
	var mu sync.Mutex
	locations := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := getAs(hs[i%len(hs)], code, personAgent)
			mu.Lock()
			defer mu.Unlock()
			locations[rec.Header().Get("Location")]++
		})
	}
	wg.Wait()
	return locations
}

// Without expiredTarget a used-up link answers 410, and a count Redis does not hold starts
// from the people's visits url_stats already has, not from zero.
func TestMaxVisitsGoneAndSeededFromURLStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	l := link("seeded", "https://shop.example.com/seeded")
	l.MaxVisits = 5
	f.declare(l)
	// 3 people's visits and 7 bots' flushed before: 2 left.
	f.exec("INSERT INTO url_stats (domain, code, visits, bot_visits, last_visit_at) VALUES ('', $1, 10, 7, now())", l.Code)
	hs := f.replicas(2)
	got := make([]int, 0, 4)
	for i := range 4 {
		got = append(got, getAs(hs[i%2], "seeded", personAgent).Code)
	}
	want := []int{http.StatusFound, http.StatusFound, http.StatusGone, http.StatusGone}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
}

// While Redis is down a replica fails open and counts alone, so each one serves at most the
// limit less the count it last saw; once Redis answers again, what it let through is added
// to the shared count.
func TestMaxVisitsWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // a Redis of the test's own, to stop
	l := link("outage", "https://shop.example.com/outage")
	l.MaxVisits = 4
	f.declare(l)
	hs := f.replicas(2)
	for i := range 2 { // one each: the count is 2, and both replicas saw it
		if rec := getAs(hs[i], "outage", personAgent); rec.Code != http.StatusFound {
			t.Fatalf("click %d = %d, want 302", i, rec.Code)
		}
	}
	if err := f.env.Redis.Stop(); err != nil {
		t.Fatal(err)
	}
	// Each replica saw (or, its first count timing out, made itself) a count of at least 1, and
	// lets through at most what is left of 4 by its own count: 3.
	served := 0
	for i := range 10 {
		rec := getAs(hs[i%2], "outage", personAgent)
		if rec.Code == http.StatusFound {
			served++
		}
	}
	if served < 2 || served > 6 {
		t.Fatalf("served %d while Redis was down, want from the 2 left to 3 per replica", served)
	}
	if err := f.env.Redis.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The count Redis lost is seeded from url_stats (empty here: memVisits), then what the
	// replicas let through while it was down is added: the link stays used up.
	eventually(t, "the link to answer gone through a restarted Redis", func() bool {
		return getAs(hs[0], "outage", personAgent).Code == http.StatusGone &&
			getAs(hs[1], "outage", personAgent).Code == http.StatusGone
	})
}
