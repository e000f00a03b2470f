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
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// One PostgreSQL with PgBouncer serves the whole package, started by the first test that needs
// it; each test takes a database of its own on it (newDB), so tests can run in parallel.
var shared = localenv.Shared{Options: localenv.Options{PgBouncer: true}}

func TestMain(m *testing.M) { os.Exit(localenv.RunTests(m, &shared)) }

var dbCounter atomic.Int64

// testDB is a fresh database on the shared server.
type testDB struct {
	name string
	// direct and bouncer are URLs straight to PostgreSQL and through PgBouncer.
	direct, bouncer string
}

// newEmptyDB creates a database without running migrations.
func newEmptyDB(t testing.TB) testDB {
	t.Helper()
	name := fmt.Sprintf("store_test_%d", dbCounter.Add(1))
	env := shared.Env(t)
	if err := env.Postgres.CreateDatabase(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return testDB{name: name, direct: env.Postgres.URL(name), bouncer: env.PgBouncer.URL(name)}
}

// newDB creates a migrated database.
func newDB(t testing.TB) testDB {
	t.Helper()
	db := newEmptyDB(t)
	if err := Migrate(context.Background(), db.direct); err != nil {
		t.Fatal(err)
	}
	return db
}

func openStore(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// newStore is a migrated database and a direct Store on it.
func newStore(t *testing.T) *Store {
	t.Helper()
	return openStore(t, newDB(t).direct, Options{})
}

// t0 is an arbitrary fixed claim time; claims are ordered relative to it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// declared builds a declared link on the default domain for the ShortLink owner ("ns/name").
func declared(code, owner, uid string, claimedAt time.Time) Declared {
	return Declared{
		Link: links.Link{
			Code: code, Target: "https://example.com/" + code, RedirectType: 302,
			Source: links.SourceK8s, Owner: owner, OwnerUID: uid,
		},
		CreatedAt: claimedAt,
		InstallID: "install-a",
	}
}

func mustUpsert(t *testing.T, s *Store, d Declared) Result {
	t.Helper()
	res, err := s.UpsertDeclared(context.Background(), d)
	if err != nil {
		t.Fatalf("upsert %s by %s: %v", d.Link.Code, d.Link.Owner, err)
	}
	return res
}

func mustGet(t *testing.T, s *Store, domain, code string) Row {
	t.Helper()
	row, err := s.Get(context.Background(), domain, code)
	if err != nil {
		t.Fatalf("get %q/%q: %v", domain, code, err)
	}
	return row
}

func mustExec(t *testing.T, s *Store, sql string, args ...any) {
	t.Helper()
	if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t *testing.T, s *Store, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// visits returns the url_stats count of a code on the default domain, or -1 when it has no row.
func visits(t *testing.T, s *Store, code string) int64 {
	t.Helper()
	var n int64
	err := s.Pool().QueryRow(context.Background(),
		"SELECT visits FROM url_stats WHERE domain = '' AND code = $1", code).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}
