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
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// replicaSetup is a primary with a streaming replica, two links on both, and a redirector
// whose lookups go to the replica. Its caches are off, so every request is a lookup.
type replicaSetup struct {
	env    *localenv.Env
	r      *redirectorProcess
	client *http.Client
}

func startReplicaSetup(t *testing.T, args ...string) *replicaSetup {
	t.Helper()
	env := localenv.ForTest(t, localenv.Options{PostgresReplica: true})
	ctx := context.Background()
	primary := env.Postgres.URL("postgres")
	if err := store.Migrate(ctx, primary); err != nil {
		t.Fatal(err)
	}
	execSQL(t, primary, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	for _, code := range []string{"rep", "gone"} {
		declare(t, primary, replicaLink(code, "https://example.com/old"))
	}
	eventually(t, "the links on the replica", func() bool { return countLinks(t, env.PostgresReplica.URL("postgres")) == 2 })
	args = append([]string{
		"--database-url", primary, "--database-replica-url", env.PostgresReplica.URL("postgres"), "--database-direct",
		"--default-domain", "sho.rt", "--local-cache-bytes", "-1", "--negative-cache-size", "-1", "--stats=false",
	}, args...)
	s := &replicaSetup{env: env, r: startProcess(t, env, "redirector-replica", args...), client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	t.Cleanup(s.client.CloseIdleConnections)
	s.waitState(t, "ok")
	return s
}

func replicaLink(code, target string) links.Link {
	return links.Link{Code: code, Target: target, RedirectType: http.StatusFound,
		Source: links.SourceK8s, Owner: "team-a/" + code, OwnerUID: "uid-" + code}
}

// get answers GET /code with its status and Location.
func (s *replicaSetup) get(t *testing.T, code string) (int, string) {
	t.Helper()
	req := mustRequest(t, "http://"+s.r.addr+"/"+code)
	req.Host = "sho.rt"
	status, header, _ := fetch(t, s.client, req)
	return status, header.Get("Location")
}

// try is get for a worker goroutine, which must not end the test: an error says what went wrong.
func (s *replicaSetup) try(code, want string) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.r.addr+"/"+code, nil)
	if err != nil {
		return err
	}
	req.Host = "sho.rt"
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET /%s: %w", code, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		return fmt.Errorf("GET /%s = %d %q", code, resp.StatusCode, resp.Header.Get("Location"))
	}
	return nil
}

func (s *replicaSetup) metric(t *testing.T, name string) float64 {
	t.Helper()
	return scrapeMetric(t, s.client, "http://"+s.r.metricsAddr+"/metrics", name)
}

func (s *replicaSetup) waitState(t *testing.T, state string) {
	t.Helper()
	eventually(t, "replica state "+state, func() bool { return s.metric(t, `shortlink_replica_state{state="`+state+`"}`) == 1 })
}

// Lookups go to the replica, as the servers' own statement statistics show. With its replay
// paused, a changed link is served new, a deleted one 404 and a new one found on the primary
// from the moment the redirector has
// seen the change (the replica still holds the old rows, and is still in use); once the replica
// lags beyond the bound it is skipped, until it has caught up.
func TestReplicaServesLookupsNeverAStaleLink(t *testing.T) {
	s := startReplicaSetup(t, "--database-replica-max-lag", "20s")
	primary, replica := s.env.Postgres.URL("postgres"), s.env.PostgresReplica.URL("postgres")

	beforeReplica, beforePrimary := lookupCalls(t, replica), lookupCalls(t, primary)
	for range 50 {
		if status, loc := s.get(t, "rep"); status != http.StatusFound || loc != "https://example.com/old" {
			t.Fatalf("GET /rep = %d %q", status, loc)
		}
	}
	if got := lookupCalls(t, replica) - beforeReplica; got < 50 {
		t.Fatalf("the replica ran %d lookups for 50 requests; want every one", got)
	}
	if got := lookupCalls(t, primary) - beforePrimary; got != 0 {
		t.Fatalf("the primary ran %d lookups while the replica was healthy; want none", got)
	}

	execSQL(t, replica, "SELECT pg_wal_replay_pause()")
	eventually(t, "replay paused", func() bool { return queryText(t, replica, "SELECT pg_get_wal_replay_pause_state()") == "paused" })
	seen := s.metric(t, `shortlink_invalidations_total{source="poll"}`)
	declare(t, primary, replicaLink("rep", "https://example.com/new"))
	deleteLink(t, primary, "gone")
	declare(t, primary, replicaLink("fresh", "https://example.com/fresh"))
	eventually(t, "the changes seen by the redirector", func() bool {
		return s.metric(t, `shortlink_invalidations_total{source="poll"}`) >= seen+3
	})
	if status, loc := s.get(t, "fresh"); status != http.StatusFound || loc != "https://example.com/fresh" {
		t.Fatalf("GET /fresh, a link the replica does not have yet = %d %q; want it from the primary", status, loc)
	}
	for range 50 {
		if status, loc := s.get(t, "rep"); status != http.StatusFound || loc != "https://example.com/new" {
			t.Fatalf("GET /rep = %d %q after the redirector saw the change: the replica's stale row", status, loc)
		}
		if status, loc := s.get(t, "gone"); status != http.StatusNotFound {
			t.Fatalf("GET /gone = %d %q after the redirector saw the delete: the replica's stale row", status, loc)
		}
	}
	if stale := s.metric(t, `shortlink_replica_lookups_total{result="stale"}`); stale < 100 {
		t.Fatalf("%v replica rows found stale; want every lookup of /rep and /gone: the floor is what keeps the old rows out", stale)
	}
	if missing := s.metric(t, `shortlink_replica_lookups_total{result="missing"}`); missing < 1 {
		t.Fatalf("%v lookups missed on the replica; want /fresh's", missing)
	}
	if s.metric(t, `shortlink_replica_state{state="ok"}`) != 1 {
		t.Fatal("the replica was skipped before the end of the stale checks; raise --database-replica-max-lag")
	}

	s.waitState(t, "lagging")
	skipped := s.metric(t, `shortlink_replica_lookups_total{result="skipped"}`)
	if status, loc := s.get(t, "rep"); status != http.StatusFound || loc != "https://example.com/new" {
		t.Fatalf("GET /rep with the replica lagging = %d %q", status, loc)
	}
	if s.metric(t, `shortlink_replica_lookups_total{result="skipped"}`) <= skipped {
		t.Fatal("a lookup went to the lagging replica")
	}
	execSQL(t, replica, "SELECT pg_wal_replay_resume()")
	s.waitState(t, "ok")
	served := s.metric(t, `shortlink_replica_lookups_total{result="served"}`)
	if status, loc := s.get(t, "rep"); status != http.StatusFound || loc != "https://example.com/new" {
		t.Fatalf("GET /rep after the replica caught up = %d %q", status, loc)
	}
	if s.metric(t, `shortlink_replica_lookups_total{result="served"}`) <= served {
		t.Fatal("the replica did not serve again after catching up")
	}
}

// With the replica killed (SIGKILL) under load, every request is answered from the primary,
// none fails; once the replica is back, lookups return to it.
func TestReplicaKilledFallsBackToPrimaryWithNoFailedRequest(t *testing.T) {
	s := startReplicaSetup(t)
	var stop atomic.Bool
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				sent.Add(1)
				if err := s.try("rep", "https://example.com/old"); err != nil {
					failed.Add(1)
					t.Error(err)
				}
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	eventually(t, "load under way", func() bool { return sent.Load() > 100 })

	if err := s.env.PostgresReplica.Kill(); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, "down")
	primary := s.env.Postgres.URL("postgres")
	before := lookupCalls(t, primary)
	eventually(t, "lookups on the primary", func() bool { return lookupCalls(t, primary)-before > 100 })

	if err := s.env.PostgresReplica.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, "ok")
	served := s.metric(t, `shortlink_replica_lookups_total{result="served"}`)
	eventually(t, "lookups on the replica again", func() bool {
		return s.metric(t, `shortlink_replica_lookups_total{result="served"}`) > served+100
	})
	stop.Store(true)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), sent.Load())
	}
	t.Logf("%d requests, none failed", sent.Load())
}

// lookupCalls is how often the server at url executed store.Lookup's statement, from its own
// statement statistics (a standby keeps its own).
func lookupCalls(t *testing.T, url string) int64 {
	t.Helper()
	var n int64
	withConn(t, url, func(conn *pgx.Conn) error {
		return conn.QueryRow(context.Background(), `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
			WHERE query LIKE '%FROM urls%AND code = $2 AND NOT deleted%'`).Scan(&n)
	})
	return n
}

func countLinks(t *testing.T, url string) int {
	t.Helper()
	var n int
	withConn(t, url, func(conn *pgx.Conn) error {
		return conn.QueryRow(context.Background(), `SELECT count(*) FROM urls WHERE NOT deleted`).Scan(&n)
	})
	return n
}

func queryText(t *testing.T, url, sql string) string {
	t.Helper()
	var s string
	withConn(t, url, func(conn *pgx.Conn) error { return conn.QueryRow(context.Background(), sql).Scan(&s) })
	return s
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	withConn(t, url, func(conn *pgx.Conn) error {
		_, err := conn.Exec(context.Background(), sql)
		return err
	})
}

func withConn(t *testing.T, url string, f func(conn *pgx.Conn) error) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if err := f(conn); err != nil {
		t.Fatal(err)
	}
}

func deleteLink(t *testing.T, url, code string) {
	t.Helper()
	s, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, deleted, err := s.DeleteDeclared(context.Background(), "", code, "uid-"+code); err != nil || !deleted {
		t.Fatalf("delete %s: deleted %v, %v", code, deleted, err)
	}
}
