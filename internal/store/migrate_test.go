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
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
)

// TestMigrateTakesThePoolsURL: the manager's database URL carries pool settings
// (docs/install.md: pool_max_conns=10); the migration's own connection must not send them to
// PostgreSQL, which refuses an unknown parameter.
func TestMigrateTakesThePoolsURL(t *testing.T) {
	t.Parallel()
	db := newEmptyDB(t)
	sep := "?"
	if strings.Contains(db.direct, "?") {
		sep = "&"
	}
	if err := Migrate(context.Background(), db.direct+sep+"pool_max_conns=10&pool_min_conns=1"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateConcurrentlyThenAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newEmptyDB(t)

	// Managers starting together: the advisory lock must make the losers find nothing to do.
	const managers = 4
	errs := make([]error, managers)
	var wg sync.WaitGroup
	for i := range managers {
		wg.Go(func() { errs[i] = Migrate(ctx, db.direct) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("manager %d: %v", i, err)
		}
	}
	s := openStore(t, db.direct, Options{})
	want, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	assertMigrationsRecorded(t, s, want)
	for _, table := range []string{"urls", "url_stats", "visit_logs", "visit_logs_default", "stats_batches", "urls_version_seq", "visit_hours", "visit_breakdowns"} {
		if n := queryInt(t, s, "SELECT count(*) FROM pg_class WHERE relname = $1", table); n != 1 {
			t.Errorf("%s exists %d times, want once", table, n)
		}
	}

	appliedAt := queryInt(t, s, "SELECT sum(extract(epoch FROM applied_at) * 1e6)::bigint FROM schema_migrations")
	if err := Migrate(ctx, db.direct); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	assertMigrationsRecorded(t, s, want)
	if again := queryInt(t, s, "SELECT sum(extract(epoch FROM applied_at) * 1e6)::bigint FROM schema_migrations"); again != appliedAt {
		t.Error("migrating an up-to-date database re-applied a migration")
	}
}

// assertMigrationsRecorded checks that schema_migrations holds the version of every embedded
// migration, each once, and nothing else. Versions need not be contiguous: two changes
// written side by side may each take a number.
func assertMigrationsRecorded(t *testing.T, s *Store, all []migration) {
	t.Helper()
	versions := make([]int32, len(all))
	for i, m := range all {
		versions[i] = int32(m.version) //nolint:gosec // a handful of small numbers
	}
	n := int64(len(all))
	rows := queryInt(t, s, "SELECT count(*) FROM schema_migrations")
	distinct := queryInt(t, s, "SELECT count(DISTINCT version) FROM schema_migrations WHERE version = ANY($1)", versions)
	if rows != n || distinct != n {
		t.Fatalf("schema_migrations has %d rows, %d distinct known versions; want %d of each", rows, distinct, n)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	sql := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{
			name:  "sorted by version, not by name",
			files: fstest.MapFS{"migrations/10_b.sql": sql("b"), "migrations/0002_a.sql": sql("a"), "migrations/README.md": sql("")},
			want:  []int{2, 10},
		},
		{name: "no version", files: fstest.MapFS{"migrations/init.sql": sql("")}, wantErr: true},
		{name: "version zero", files: fstest.MapFS{"migrations/0000_x.sql": sql("")}, wantErr: true},
		{name: "duplicate version", files: fstest.MapFS{"migrations/0001_a.sql": sql(""), "migrations/1_b.sql": sql("")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadMigrations(tt.files)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d migrations, want %d", len(got), len(tt.want))
			}
			for i, m := range got {
				if m.version != tt.want[i] {
					t.Errorf("migration %d has version %d, want %d", i, m.version, tt.want[i])
				}
			}
		})
	}
}

// 0005 counts what visit_logs already holds into visit_hours, by UTC hour.
func TestVisitHoursBackfilledFromVisitLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newEmptyDB(t)
	all, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(all, func(m migration) bool { return m.version == 5 })
	if before < 0 {
		t.Fatal("no migration 0005")
	}
	s := openStore(t, db.direct, Options{})
	if err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error { return applyMissing(ctx, tx, all[:before]) }); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"2026-05-01T10:00:00Z", "2026-05-01T12:59:59+02:00", "2026-05-01T11:00:00Z"} {
		mustExec(t, s, "INSERT INTO visit_logs (visited_at, domain, code) VALUES ($1::timestamptz, '', 'v')", at)
	}
	sep := "?"
	if strings.Contains(db.direct, "?") {
		sep = "&"
	}
	if err := Migrate(ctx, db.direct+sep+"timezone=Asia/Kolkata"); err != nil { // a half-hour zone must not move the hours
		t.Fatal(err)
	}
	got := queryInt(t, s, "SELECT visits FROM visit_hours WHERE code = 'v' AND hour = '2026-05-01T10:00:00Z'")
	if n := queryInt(t, s, "SELECT count(*) FROM visit_hours"); got != 2 || n != 2 {
		t.Fatalf("visit_hours: %d visits at 10:00 UTC and %d rows; want 2 and 2", got, n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM pg_indexes WHERE indexname = 'visit_logs_link_idx'"); n != 0 {
		t.Fatal("the per-visit index is still there")
	}
}
