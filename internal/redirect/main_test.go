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
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// One PostgreSQL with PgBouncer serves the package, each test on a database of its own. It
// starts on first use, so the tests that need none (fuzzing, parsing) run without it. Redis is
// started per test (newFixture), since pub/sub is shared by every database of a server and some
// tests count the invalidations they receive. Tests that stop a server start their own.
var shared = localenv.Shared{Options: localenv.Options{PgBouncer: true}}

func TestMain(m *testing.M) { os.Exit(localenv.RunTests(m, &shared)) }

// sharedPostgres returns the package's PostgreSQL and PgBouncer, starting them on first use. A
// missing binary skips the test outside CI and fails it under CI=true.
func sharedPostgres(t *testing.T) *localenv.Env {
	t.Helper()
	return shared.Env(t)
}

var dbCounter atomic.Int64

// testDB is a migrated database with pg_stat_statements, reachable directly and through PgBouncer.
type testDB struct {
	direct, bouncer string
}

func newDB(t *testing.T, env *localenv.Env) testDB {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("redirect_test_%d", dbCounter.Add(1))
	if err := env.Postgres.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	db := testDB{direct: env.Postgres.URL(name), bouncer: env.PgBouncer.URL(name)}
	if err := store.Migrate(ctx, db.direct); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, db.direct)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		t.Fatal(err)
	}
	return db
}
