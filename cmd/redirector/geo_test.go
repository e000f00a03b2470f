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
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/geotest"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// With --geoip-database, a redirect's visit is counted by the country of the client's full
// address (loopback, mapped to NZ by the test's database), beside its referrer domain and
// device class; a path that is no database stops the redirector with an error naming the
// flag's file.
func TestVisitsCountedByCountry(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	declare(t, env.Postgres.URL("postgres"), links.Link{
		Code: "geo", Target: "https://example.com/geo", RedirectType: 302,
		Source: links.SourceK8s, Owner: "team-a/geo", OwnerUID: "uid-geo",
	})
	args := []string{"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
		"--database-url", env.PgBouncer.URL("postgres"), "--default-domain", "sho.rt"}

	bad := run(ctx, append(args, "--geoip-database", t.TempDir()+"/none.mmdb"), noEnv, &syncBuffer{})
	if bad == nil || !strings.Contains(bad.Error(), "geo database") {
		t.Fatalf("run with a missing geo database = %v, want an error about it", bad)
	}

	db := geotest.CountryDB(t, map[netip.Prefix]string{netip.MustParsePrefix("127.0.0.0/8"): "NZ"})
	runCtx, stop := context.WithCancel(ctx)
	logs, done := &syncBuffer{}, make(chan error, 1)
	go func() { done <- run(runCtx, append(args, "--geoip-database", db), noEnv, logs) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("redirector: run = %v", err)
		}
	})
	addr, _ := servingAddresses(t, logs, done)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req := mustRequest(t, "http://"+addr+"/geo")
	req.Host = "sho.rt"
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
	req.Header.Set("Referer", "https://news.example/post")
	if status, _, _ := fetch(t, client, req); status != http.StatusFound {
		t.Fatalf("GET /geo = %d, want 302", status)
	}

	pool, err := pgxpool.New(ctx, env.Postgres.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	want := "country NZ=1 device mobile=1 referrer news.example=1"
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(dimension || ' ' || value || '=' || visits, ' ' ORDER BY dimension, value), '')
			FROM visit_breakdowns WHERE code = 'geo'`).Scan(&got)
		if err == nil && got == want {
			return
		}
	}
	t.Fatalf("visit_breakdowns of geo = %q, want %q", got, want)
}
