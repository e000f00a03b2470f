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
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// TestCreateAPILinks runs through PgBouncer (QueryExecModeExec), as the API does: the temporary
// table, COPY and the insert share one transaction.
func TestCreateAPILinks(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	direct := openStore(t, db.direct, Options{})
	s := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 2})
	ctx := context.Background()
	mustUpsert(t, direct, declared("decl", "team-a/decl", "uid-1", t0))
	live, err := s.CreateAPILink(ctx, apiLink("live", "https://example.com/live"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPILink(ctx, apiLink("tomb", "https://example.com/tomb")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAPILink(ctx, "", "tomb", ""); err != nil {
		t.Fatal(err)
	}
	mustExec(t, direct, "INSERT INTO url_stats (domain, code, visits) VALUES ('', 'tomb', 5)")
	before := queryInt(t, direct, "SELECT max(version) FROM urls")

	// Value 0 makes "cust", a custom code of this batch: skipped at once. Value 1 makes "decl",
	// held: stored under the value after. Value 2 and on make g2, g3, ….
	encode := func(n uint64) string {
		return map[uint64]string{0: "cust", 1: "decl"}[n] + map[bool]string{true: fmt.Sprintf("g%d", n)}[n > 1]
	}
	in := []links.Link{
		apiLink("new", "https://example.com/1"), apiLink("", "https://example.com/gen-a"),
		apiLink("live", "https://example.com/2"), apiLink("new", "https://example.com/dup"),
		apiLink("", "https://example.com/gen-b"), apiLink("tomb", "https://example.com/revived"),
		apiLink("decl", "https://example.com/3"), apiLink("cust", "https://example.com/4"),
		apiLink("new", "https://example.com/5"),
	}
	in[8].Domain = "go.example.com" // the same code on another domain is another key
	rows, err := s.CreateAPILinks(ctx, in, encode)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"new", "g2", "", "", "g3", "tomb", "", "cust", "new"}
	seen := map[int64]bool{}
	for i, row := range rows {
		if row.Code != want[i] {
			t.Fatalf("item %d stored as %q, want %q (all: %+v)", i, row.Code, want[i], rows)
		}
		if row.Code == "" {
			continue
		}
		if row.Target != in[i].Target || row.Domain != in[i].Domain || row.Source != links.SourceAPI ||
			row.Version <= before || seen[row.Version] {
			t.Fatalf("item %d = %+v, want %s with a new version of its own", i, row, in[i].Target)
		}
		seen[row.Version] = true
	}
	if in[1].Code != "" {
		t.Fatal("CreateAPILinks changed its argument")
	}
	if got := mustGet(t, direct, "", "live"); got.Target != live.Target || got.Version != live.Version {
		t.Fatalf("the live link was changed: %+v", got)
	}
	if got := mustGet(t, direct, "", "decl"); got.Source != links.SourceK8s {
		t.Fatalf("the declared link was changed: %+v", got)
	}
	if n := visits(t, direct, "tomb"); n != -1 {
		t.Fatalf("the tombstone's visits (%d) survived the new holder", n)
	}
	if n := queryInt(t, direct, "SELECT count(*) FROM urls WHERE source = 'api' AND NOT deleted"); n != 7 {
		t.Fatalf("%d live API links, want 7 (live and six of the batch)", n)
	}
}

func TestCreateAPILinksWritesNothingOnError(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	bad := apiLink("bad", "https://example.com/bad")
	bad.RedirectType = 303 // refused by the table's CHECK, after the first link went in
	_, err := s.CreateAPILinks(context.Background(), []links.Link{apiLink("good", "https://example.com/good"), bad},
		func(n uint64) string { return fmt.Sprint("g", n) })
	if err == nil {
		t.Fatal("a batch breaking a constraint was stored")
	}
	if n := queryInt(t, s, "SELECT count(*) FROM urls"); n != 0 {
		t.Fatalf("a failed batch left %d rows", n)
	}
}

// TestCreatedRowsAreTheStoredRows: the creates read back only what the database decides
// (version, times) and build the rest from the link sent; the row they return must be the
// row a read finds, for a new code, a revived tombstone, and validity times finer than
// PostgreSQL keeps.
func TestCreatedRowsAreTheStoredRows(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	direct := openStore(t, db.direct, Options{})
	s := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 2})
	ctx := context.Background()
	full := func(code string) links.Link {
		l := apiLink(code, "https://example.com/"+code)
		l.Domain, l.RedirectType, l.ForwardQuery, l.Suspended = "go.example.com", 307, true, true
		l.ValidSince = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		l.ValidUntil = time.Date(2027, 1, 2, 3, 4, 5, 999, time.FixedZone("x", 3600))
		l.ExpiredTarget, l.Tags = "https://example.com/gone", []string{"a", "b"}
		return l
	}
	if _, err := s.CreateAPILink(ctx, full("tomb")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAPILink(ctx, "go.example.com", "tomb", ""); err != nil {
		t.Fatal(err)
	}
	single, err := s.CreateAPILink(ctx, full("single"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.CreateAPILink(ctx, apiLink("plain", "https://example.com/plain"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := s.CreateAPILinks(ctx, []links.Link{full("tomb"), full("b1"), apiLink("b2", "https://example.com/b2")},
		func(uint64) string { return "unused" })
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range append([]Row{single, plain}, batch...) {
		want, _, err := direct.GetWithVisits(ctx, got.Domain, got.Code)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("create returned\n%+v\nbut stored\n%+v", got, want)
		}
	}
}
