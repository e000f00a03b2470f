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
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestUpsertDeclaredWritesOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	// One connection, so the statistics flushed by tupleUpdates are those of our own writes.
	s := openStore(t, newDB(t).direct, Options{MaxConns: 1})
	d := declared("docs", "team-a/docs", "uid-1", t0)

	created := mustUpsert(t, s, d)
	if !created.Changed || !created.Created || created.Version <= 0 {
		t.Fatalf("first upsert = %+v, want changed, created, with a version", created)
	}
	if row := mustGet(t, s, "", "docs"); row.Version != created.Version || row.Target != d.Link.Target {
		t.Fatalf("row = version %d target %q, want %d %q", row.Version, row.Target, created.Version, d.Link.Target)
	}

	updates, stamp := tupleUpdates(t, s), tupleStamp(t, s, "docs")
	again := mustUpsert(t, s, d)
	if again != (Result{Version: created.Version}) {
		t.Fatalf("same upsert again = %+v, want unchanged at version %d", again, created.Version)
	}
	if got := tupleUpdates(t, s); got != updates {
		t.Fatalf("a no-op upsert updated urls: n_tup_upd %d -> %d", updates, got)
	}
	if got := tupleStamp(t, s, "docs"); got != stamp {
		t.Fatalf("a no-op upsert rewrote the row: %s -> %s", stamp, got)
	}

	d.Link.Target = "https://example.com/moved"
	changed := mustUpsert(t, s, d)
	if !changed.Changed || changed.Created || changed.Version <= created.Version {
		t.Fatalf("changed upsert = %+v, want changed with a version above %d", changed, created.Version)
	}
	if got := tupleUpdates(t, s); got != updates+1 {
		t.Fatalf("n_tup_upd after a change = %d, want %d", got, updates+1)
	}
	if row := mustGet(t, s, "", "docs"); row.Target != d.Link.Target || row.Version != changed.Version {
		t.Fatalf("row = version %d target %q, want %d %q", row.Version, row.Target, changed.Version, d.Link.Target)
	}
}

// tupleUpdates flushes this session's table statistics, then reads how many urls rows were updated.
func tupleUpdates(t *testing.T, s *Store) int64 {
	t.Helper()
	mustExec(t, s, "SELECT pg_stat_force_next_flush()")
	return queryInt(t, s, "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'urls'")
}

// tupleStamp identifies the physical version of a row: any UPDATE gives it a new xmin and ctid.
func tupleStamp(t *testing.T, s *Store, code string) string {
	t.Helper()
	var stamp string
	err := s.Pool().QueryRow(context.Background(),
		"SELECT xmin::text || ' ' || ctid::text FROM urls WHERE domain = '' AND code = $1", code).Scan(&stamp)
	if err != nil {
		t.Fatal(err)
	}
	return stamp
}

func TestUpsertDeclaredStoresAndComparesEveryField(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	base := declared("full", "team-a/full", "uid-1", t0)
	base.Link.Domain = "go.example.com"
	base.Link.RedirectType = 308
	base.Link.ForwardQuery = true
	base.Link.ValidSince = t0.Add(time.Hour)
	base.Link.ExpiredTarget = "https://example.com/expired"
	base.Link.Tags = []string{"b", "a"}
	version := mustUpsert(t, s, base).Version

	row := mustGet(t, s, "go.example.com", "full")
	want := base.Link
	want.Version = version
	if !sameLink(row.Link, want) || row.InstallID != "install-a" || !row.CreatedAt.Equal(t0) || row.Deleted {
		t.Fatalf("stored row = %+v\nwant link %+v, install-a, created %v", row, want, t0)
	}

	// Each declared field on its own must count as a change.
	mutations := []struct {
		name   string
		mutate func(*Declared)
	}{
		{"target", func(d *Declared) { d.Link.Target = "https://example.com/other" }},
		{"redirect type", func(d *Declared) { d.Link.RedirectType = 301 }},
		{"forward query", func(d *Declared) { d.Link.ForwardQuery = false }},
		{"valid since unset", func(d *Declared) { d.Link.ValidSince = time.Time{} }},
		{"valid until set", func(d *Declared) { d.Link.ValidUntil = t0.AddDate(1, 0, 0) }},
		{"expired target", func(d *Declared) { d.Link.ExpiredTarget = "" }},
		{"suspended", func(d *Declared) { d.Link.Suspended = true }},
		{"tag order", func(d *Declared) { d.Link.Tags = []string{"a", "b"} }},
		{"no tags", func(d *Declared) { d.Link.Tags = nil }},
		{"install id", func(d *Declared) { d.InstallID = "install-b" }},
	}
	for _, m := range mutations {
		d := base
		m.mutate(&d)
		res := mustUpsert(t, s, d)
		if !res.Changed || res.Version <= version {
			t.Errorf("%s: upsert = %+v, want a change above version %d", m.name, res, version)
		}
		version = res.Version
		if !sameLink(mustGet(t, s, d.Link.Domain, d.Link.Code).Link, withVersion(d.Link, version)) {
			t.Errorf("%s: stored row does not match", m.name)
		}
		base = d
	}
}

func withVersion(l links.Link, v int64) links.Link {
	l.Version = v
	return l
}

// sameLink compares links as stored: times by instant, no tags the same as empty tags.
func sameLink(a, b links.Link) bool {
	if !a.ValidSince.Equal(b.ValidSince) || !a.ValidUntil.Equal(b.ValidUntil) || len(a.Tags) != len(b.Tags) {
		return false
	}
	a.ValidSince, a.ValidUntil, b.ValidSince, b.ValidUntil = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if len(a.Tags) == 0 {
		a.Tags, b.Tags = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

func TestUpsertDeclaredRefusesIncompleteLinks(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name   string
		mutate func(*Declared)
	}{
		{"api source", func(d *Declared) { d.Link.Source = links.SourceAPI }},
		{"no owner", func(d *Declared) { d.Link.Owner = "" }},
		{"no owner UID", func(d *Declared) { d.Link.OwnerUID = "" }},
		{"no claim time", func(d *Declared) { d.CreatedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := declared("bad", "team-a/bad", "uid-a", t0)
			tt.mutate(&d)
			if _, err := s.UpsertDeclared(context.Background(), d); !errors.Is(err, links.ErrInvalidLink) {
				t.Fatalf("err = %v, want ErrInvalidLink", err)
			}
		})
	}
	if _, err := s.Get(context.Background(), "", "bad"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("a refused link was stored: %v", err)
	}
}

func TestMissingLinkIsNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	_, getErr := s.Get(ctx, "", "nope")
	_, lookupErr := s.Lookup(ctx, "", "nope")
	for _, err := range []error{getErr, lookupErr} {
		if !errors.Is(err, links.ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("err = %v, want links.ErrNotFound and not pgx.ErrNoRows", err)
		}
	}
}

func TestListDeclaredPagesThroughOneInstall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	keys := []Key{{"", "c"}, {"b.example", "a"}, {"", "a"}, {"a.example", "z"}, {"", "b"}}
	want := make([]Key, 0, len(keys))
	for i, key := range keys {
		d := declared(key.Code, fmt.Sprintf("team-a/l%d", i), fmt.Sprintf("uid-%d", i), t0)
		d.Link.Domain = key.Domain
		mustUpsert(t, s, d)
		want = append(want, key)
	}
	slices.SortFunc(want, compareKeys)
	gone := declared("gone", "team-a/gone", "uid-gone", t0)
	mustUpsert(t, s, gone)
	mustDelete(t, s, "gone", "uid-gone")
	other := declared("other", "team-a/other", "uid-other", t0)
	other.InstallID = "install-b"
	mustUpsert(t, s, other)
	mustExec(t, s, `INSERT INTO urls (code, target, source, created_at, install_id) VALUES ('api', 'https://api.example/', 'api', now(), 'install-a')`)

	var got []Key
	after := Key{}
	for page := 0; ; page++ {
		rows, err := s.ListDeclared(ctx, "install-a", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got = append(got, Key{r.Domain, r.Code})
		}
		if len(rows) < 2 || page > 10 {
			break
		}
		after = got[len(got)-1]
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func compareKeys(a, b Key) int {
	if a.Domain != b.Domain {
		if a.Domain < b.Domain {
			return -1
		}
		return 1
	}
	switch {
	case a.Code < b.Code:
		return -1
	case a.Code > b.Code:
		return 1
	}
	return 0
}

// Declared.Unchanged is the reconciler's read-first fast path: it must say "unchanged" exactly
// when the upsert writes nothing, column by column (issue 11 item 6: the Go side once ignored
// install_id and created_at, so a new --install-id never re-stamped a row).
func TestUnchangedAgreesWithTheUpsert(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	base := declared("same", "team-a/same", "uid-1", t0)
	base.Link.Tags = []string{"x"}
	mutations := map[string]func(*Declared){
		"target":         func(d *Declared) { d.Link.Target = "https://example.com/other" },
		"redirect_type":  func(d *Declared) { d.Link.RedirectType = 308 },
		"forward_query":  func(d *Declared) { d.Link.ForwardQuery = true },
		"forward_path":   func(d *Declared) { d.Link.ForwardPath = true },
		"max_visits":     func(d *Declared) { d.Link.MaxVisits = 5 },
		"valid_since":    func(d *Declared) { d.Link.ValidSince = t0.Add(time.Hour) },
		"valid_until":    func(d *Declared) { d.Link.ValidUntil = t0.AddDate(1, 0, 0) },
		"expired_target": func(d *Declared) { d.Link.ExpiredTarget = "https://example.com/expired" },
		"suspended":      func(d *Declared) { d.Link.Suspended = true },
		"tags":           func(d *Declared) { d.Link.Tags = []string{"x", "y"} },
		"owner":          func(d *Declared) { d.Link.Owner = "team-a/renamed" },
		"owner_uid":      func(d *Declared) { d.Link.OwnerUID = "uid-restored" },
		"install_id":     func(d *Declared) { d.InstallID = "install-b" },
		"created_at":     func(d *Declared) { d.CreatedAt = t0.Add(-time.Second) },
		// Spellings the store folds to one stored value are no change.
		"nothing":                   func(*Declared) {},
		"zero redirect type is 302": func(d *Declared) { d.Link.RedirectType = 0 },
		"empty source is k8s":       func(d *Declared) { d.Link.Source = "" },
	}
	for _, c := range declaredColumns {
		if _, ok := mutations[c.name]; !ok && c.name != "source" { // source: always k8s here
			t.Errorf("declared column %s has no mutation in this test", c.name)
		}
		if why, ok := notDeclaredColumns[c.name]; ok {
			t.Errorf("column %s is both declared and not (%s)", c.name, why)
		}
	}
	for name, mutate := range mutations {
		mustUpsert(t, s, base)
		d := base
		d.Link.Tags = slices.Clone(base.Link.Tags)
		mutate(&d)
		unchanged := d.Unchanged(mustGet(t, s, "", "same"))
		res := mustUpsert(t, s, d)
		if unchanged == res.Changed {
			t.Errorf("%s: Unchanged = %v but the upsert changed = %v", name, unchanged, res.Changed)
		}
		if !d.Unchanged(mustGet(t, s, "", "same")) {
			t.Errorf("%s: the row just written is not Unchanged", name)
		}
	}
	mustUpsert(t, s, base)
	mustDelete(t, s, "same", base.Link.OwnerUID)
	if base.Unchanged(mustGet(t, s, "", "same")) {
		t.Error("a tombstone counts as unchanged")
	}
}
