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

package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestChangeFeedThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	writer := openStore(t, db.direct, Options{})
	reader := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 4})
	if mode := reader.Pool().Config().ConnConfig.DefaultQueryExecMode; mode != pgx.QueryExecModeExec {
		t.Fatalf("query mode through PgBouncer = %v, want QueryExecModeExec", mode)
	}

	codes := []string{"a", "b", "c", "d"}
	versions := make([]int64, 0, len(codes)+1)
	for _, code := range codes {
		versions = append(versions, mustUpsert(t, writer, declared(code, "team-a/"+code, "uid-"+code, t0)).Version)
	}
	versions = append(versions, mustDelete(t, writer, "b", "uid-b"))
	wantCodes := []string{"a", "c", "d", "b"} // b last: its tombstone is the newest write

	// Concurrent rounds, so PgBouncer hands each client transaction whichever server connection
	// is free: a prepared statement would then be missing on the next one.
	feeds, err := readFeedConcurrently(reader, 4, 25)
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range feeds {
		assertFeed(t, rows, wantCodes, versions[len(versions)-1])
	}
	first, err := reader.Changes(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	assertFeed(t, first, wantCodes[:2], 0)
	rest, err := reader.Changes(ctx, first[1].Version, 100)
	if err != nil {
		t.Fatal(err)
	}
	assertFeed(t, rest, wantCodes[2:], 0)

	l, err := reader.Lookup(ctx, "", "c")
	if err != nil || l.Target != "https://example.com/c" || l.Version != versions[2] || l.Owner != "team-a/c" {
		t.Fatalf("lookup c = %+v, %v", l, err)
	}
	if _, err := reader.Lookup(ctx, "", "b"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("lookup of a tombstone = %v, want ErrNotFound", err)
	}
}

// readFeedConcurrently reads the whole feed rounds times from each of readers goroutines.
func readFeedConcurrently(s *Store, readers, rounds int) ([][]Row, error) {
	feeds := make([][][]Row, readers)
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Go(func() {
			for range rounds {
				rows, err := s.Changes(context.Background(), 0, 100)
				if err != nil {
					errs[i] = err
					return
				}
				feeds[i] = append(feeds[i], rows)
			}
		})
	}
	wg.Wait()
	return slices.Concat(feeds...), errors.Join(errs...)
}

// assertFeed checks the codes in order, versions increasing, and that only b is a tombstone.
// When last is not 0 it is the version of the final row.
func assertFeed(t *testing.T, rows []Row, codes []string, last int64) {
	t.Helper()
	if len(rows) != len(codes) {
		t.Fatalf("feed has %d rows, want %d", len(rows), len(codes))
	}
	for i, r := range rows {
		if r.Code != codes[i] || r.Deleted != (r.Code == "b") || (i > 0 && r.Version <= rows[i-1].Version) {
			t.Fatalf("feed row %d = %s deleted=%v version %d; want %v in increasing versions", i, r.Code, r.Deleted, r.Version, codes)
		}
	}
	if last != 0 && rows[len(rows)-1].Version != last {
		t.Fatalf("last version = %d, want %d", rows[len(rows)-1].Version, last)
	}
}

// The manager normally writes over a direct connection, but nothing in a write may depend on it.
func TestWritesWorkThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, newDB(t).bouncer, Options{ViaPgBouncer: true, MaxConns: 4})
	d := declared("pgb", "team-a/pgb", "uid-a", t0)
	d.Link.Tags = []string{"x"}
	d.Link.ValidUntil = t0.AddDate(0, 1, 0)
	for range 5 {
		mustUpsert(t, s, d)
	}
	_, err := s.UpsertDeclared(ctx, declared("pgb", "team-b/x", "uid-b", t0.AddDate(0, 0, 1)))
	assertConflict(t, err, "team-a/pgb")
	mustDelete(t, s, "pgb", "uid-a")
	if _, err := s.PurgeTombstones(ctx, t0, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListDeclared(ctx, "install-a", Key{}, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VisitTotals(ctx, "install-a"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesStatementTimeoutThroughPgBouncer(t *testing.T) {
	t.Parallel()
	url := "postgres://postgres@127.0.0.1:1/db?statement_timeout=1000"
	if _, err := Open(context.Background(), url, Options{ViaPgBouncer: true}); err == nil {
		t.Fatal("Open accepted statement_timeout as a start-up parameter through PgBouncer")
	}
}
