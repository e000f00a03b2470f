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

package stats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/stats"
	"github.com/shortlink-dev/shortlink/internal/store"
)

const (
	chromeDesktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	safariIPad    = "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)

// A flush counts a link's visits per UTC day by referrer domain, device class and country,
// adding to the rows earlier flushes wrote.
func TestBreakdownsCountedPerDay(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{})
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []stats.Visit{
		{Code: "bd", At: day.Add(time.Hour), Referer: "https://www.news.example/a", UserAgent: chromeDesktop, Country: "DE"},
		{Code: "bd", At: day.Add(2 * time.Hour), Referer: "https://news.example/b", UserAgent: safariIPhone, Country: "DE"},
		{Code: "bd", At: day.Add(3 * time.Hour), UserAgent: safariIPad, Country: "FR"},
		{Code: "bd", At: day.Add(4 * time.Hour), Referer: "https://t.co/x", UserAgent: "Slackbot-LinkExpanding 1.0", Bot: true},
		{Code: "bd", At: day.Add(25 * time.Hour), Referer: "https://news.example/c", UserAgent: safariIPhone},
	} {
		a.Record(v)
	}
	mustFlush(t, a)
	a.Record(stats.Visit{Code: "bd", At: day.Add(5 * time.Hour), Referer: "https://news.example/d", UserAgent: chromeDesktop, Country: "DE"})
	mustFlush(t, a)

	want := map[string]int64{
		"2026-06-01 referrer news.example": 3, "2026-06-01 referrer (direct)": 1, "2026-06-01 referrer t.co": 1,
		"2026-06-01 device desktop": 2, "2026-06-01 device mobile": 1, "2026-06-01 device tablet": 1, "2026-06-01 device bot": 1,
		"2026-06-01 country DE": 3, "2026-06-01 country FR": 1,
		"2026-06-02 referrer news.example": 1, "2026-06-02 device mobile": 1,
	}
	checkBreakdowns(t, pool, "bd", want)
}

// A link-day keeps MaxReferrers domains: a batch's further domains, least visited first, are
// summed into "(other)"; a kept domain goes on counting in later batches, where a new domain
// finds no place left.
func TestReferrersCappedPerLinkDay(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{})
	day := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	record := func(domain string, n int) {
		for range n {
			a.Record(stats.Visit{Code: "cap", At: day, Referer: "https://" + domain + "/", UserAgent: chromeDesktop})
		}
	}
	want := map[string]int64{"2026-06-01 device desktop": 0}
	for i := range store.MaxReferrers {
		record(fmt.Sprintf("top%d.example", i), 3) // three visits each: these take the places
		want[fmt.Sprintf("2026-06-01 referrer top%d.example", i)] = 3
	}
	for i := range 5 {
		record(fmt.Sprintf("tail%d.example", i), 1)
	}
	want["2026-06-01 referrer (other)"] = 5
	mustFlush(t, a)

	record("top0.example", 2)
	record("late.example", 4)                                             // more than any kept domain's share in this batch, still no place
	a.Record(stats.Visit{Code: "cap", At: day, UserAgent: chromeDesktop}) // (direct) takes no place
	mustFlush(t, a)
	want["2026-06-01 referrer top0.example"] = 5
	want["2026-06-01 referrer (other)"] = 9
	want["2026-06-01 referrer (direct)"] = 1
	want["2026-06-01 device desktop"] = 3*store.MaxReferrers + 5 + 2 + 4 + 1
	checkBreakdowns(t, pool, "cap", want)
}

// checkBreakdowns compares the visit_breakdowns rows of code, keyed "day dimension value", with
// want.
func checkBreakdowns(t *testing.T, pool *pgxpool.Pool, code string, want map[string]int64) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT to_char(day, 'YYYY-MM-DD') || ' ' || dimension || ' ' || value, visits
		FROM visit_breakdowns WHERE domain = '' AND code = $1`, code)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]int64)
	var key string
	var n int64
	for rows.Next() {
		if err := rows.Scan(&key, &n); err != nil {
			t.Fatal(err)
		}
		got[key] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("visit_breakdowns of %s:\n got %v\nwant %v", code, got, want)
	}
}
