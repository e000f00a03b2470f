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
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func mustDelete(t *testing.T, s *Store, code, uid string) int64 {
	t.Helper()
	v, deleted, err := s.DeleteDeclared(context.Background(), "", code, uid)
	if err != nil || !deleted {
		t.Fatalf("delete %s by %s = %v, %v; want deleted", code, uid, deleted, err)
	}
	return v
}

func TestDeleteDeclared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	created := mustUpsert(t, s, declared("del", "team-a/del", "uid-a", t0))

	if v, deleted, err := s.DeleteDeclared(ctx, "", "del", "uid-b"); err != nil || deleted || v != 0 {
		t.Fatalf("delete by a non-holder = %d, %v, %v; want a no-op", v, deleted, err)
	}
	if row := mustGet(t, s, "", "del"); row.Deleted || row.Version != created.Version {
		t.Fatalf("row after a non-holder's delete = %+v, want untouched", row)
	}

	v := mustDelete(t, s, "del", "uid-a")
	if row := mustGet(t, s, "", "del"); !row.Deleted || row.Version != v || v <= created.Version {
		t.Fatalf("row after delete = deleted %v version %d; want a tombstone at version %d above %d", row.Deleted, row.Version, v, created.Version)
	}
	if v, deleted, err := s.DeleteDeclared(ctx, "", "del", "uid-a"); err != nil || deleted || v != 0 {
		t.Fatalf("second delete = %d, %v, %v; want a no-op", v, deleted, err)
	}
	if _, err := s.Lookup(ctx, "", "del"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("lookup of a tombstone = %v, want ErrNotFound", err)
	}
	if _, _, err := s.DeleteDeclared(ctx, "", "del", ""); err == nil {
		t.Fatal("delete with an empty owner UID succeeded")
	}
}

func TestPurgeTombstones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustUpsert(t, s, declared("live", "team-a/live", "uid-live", t0))
	for _, code := range []string{"old-1", "old-2", "old-3", "recent"} {
		mustUpsert(t, s, declared(code, "team-a/"+code, "uid-"+code, t0))
		mustDelete(t, s, code, "uid-"+code)
		mustExec(t, s, "INSERT INTO url_stats (domain, code, visits) VALUES ('', $1, 3)", code)
	}
	mustExec(t, s, "INSERT INTO url_stats (domain, code, visits) VALUES ('', 'live', 3)")
	// Backdate far into the past, so the cutoff below is independent of the machine's clock.
	mustExec(t, s, "UPDATE urls SET updated_at = '2000-01-01T00:00:00Z' WHERE code LIKE 'old-%'")
	cutoff := time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)

	for _, want := range []int64{2, 1, 0} {
		n, err := s.PurgeTombstones(ctx, cutoff, 2)
		if err != nil || n != want {
			t.Fatalf("purge = %d, %v; want %d", n, err, want)
		}
	}
	if n := queryInt(t, s, "SELECT count(*) FROM urls WHERE code LIKE 'old-%'"); n != 0 {
		t.Errorf("%d old tombstones left", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM url_stats WHERE code LIKE 'old-%'"); n != 0 {
		t.Errorf("%d visit counts of purged links left", n)
	}
	if row := mustGet(t, s, "", "recent"); !row.Deleted {
		t.Error("the recent tombstone is gone or revived")
	}
	if mustGet(t, s, "", "live").Deleted || visits(t, s, "live") != 3 {
		t.Error("the live link or its visits were touched")
	}
}
