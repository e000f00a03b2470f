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
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Two redirector processes' worth of run(), sharing Redis and PostgreSQL, let a link with
// maxVisits=5 through to its target exactly five times between them, then answer 410; a bot's
// clicks in between use none of it, and url_stats counts the five people and the bot's five
// redirected clicks (issue 18 item 4).
func TestMaxVisitsAcrossRedirectors(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, Redis: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	declare(t, env.Postgres.URL("postgres"), links.Link{
		Code: "camp", Target: "https://example.com/camp", RedirectType: 302, MaxVisits: 5,
		Source: links.SourceK8s, Owner: "team-a/camp", OwnerUID: "uid-camp",
	})
	var addrs [2]string
	for i := range addrs {
		runCtx, stop := context.WithCancel(ctx)
		logs, done := &syncBuffer{}, make(chan error, 1)
		go func() {
			done <- run(runCtx, []string{
				"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
				"--database-url", env.PgBouncer.URL("postgres"), "--redis-url", env.Redis.URL(), "--default-domain", "sho.rt",
			}, noEnv, logs)
		}()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("redirector %d: run = %v", i, err)
			}
		})
		addrs[i], _ = servingAddresses(t, logs, done)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	click := func(i int, agent string) int {
		req := mustRequest(t, "http://"+addrs[i]+"/camp")
		req.Host = "sho.rt"
		req.Header.Set("User-Agent", agent)
		status, _, _ := fetch(t, client, req)
		return status
	}
	const person = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	got := make([]int, 0, 10)
	for i := range 10 {
		// A preview sees what people see: the target until the limit, then 410.
		if s, want := click(i%2, "facebookexternalhit/1.1"), statusAfter(i); s != want {
			t.Fatalf("a link preview's click %d = %d, want %d", i, s, want)
		}
		got = append(got, click(i%2, person))
	}
	want := fmt.Sprint([]int{302, 302, 302, 302, 302, 410, 410, 410, 410, 410})
	if fmt.Sprint(got) != want {
		t.Fatalf("people's clicks answered %v, want %s", got, want)
	}
	pool, err := pgxpool.New(ctx, env.Postgres.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var people, bots int64
		err := pool.QueryRow(ctx, "SELECT visits - bot_visits, bot_visits FROM url_stats WHERE code = 'camp'").Scan(&people, &bots)
		if err == nil && people == 5 && bots == 5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("url_stats for camp = %d people, %d bots (%v); want 5 and 5", people, bots, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusAfter is the answer to a click after i people's clicks of a link limited to 5.
func statusAfter(i int) int {
	if i < 5 {
		return http.StatusFound
	}
	return http.StatusGone
}
