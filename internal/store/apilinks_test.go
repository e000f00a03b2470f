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

func apiLink(code, target string) links.Link {
	return links.Link{Code: code, Target: target, RedirectType: 302, Source: links.SourceAPI}
}

func TestCreateAPILink(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	row, err := s.CreateAPILink(ctx, apiLink("mine", "https://example.com/1"))
	if err != nil || row.Source != links.SourceAPI || row.Version <= 0 || row.CreatedAt.IsZero() {
		t.Fatalf("create = %+v, %v", row, err)
	}
	if _, err := s.CreateAPILink(ctx, apiLink("mine", "https://example.com/2")); !errors.Is(err, ErrConflict) {
		t.Fatalf("create over a live API link = %v, want ErrConflict", err)
	}
	mustUpsert(t, s, declared("theirs", "team-a/theirs", "uid-1", t0))
	if _, err := s.CreateAPILink(ctx, apiLink("theirs", "https://example.com/3")); !errors.Is(err, ErrConflict) {
		t.Fatalf("create over a declared link = %v, want ErrConflict", err)
	}
	if got := mustGet(t, s, "", "mine"); got.Target != "https://example.com/1" {
		t.Fatalf("a refused create changed the row: %+v", got)
	}
	if got := mustGet(t, s, "", "theirs"); got.Source != links.SourceK8s {
		t.Fatalf("a refused create changed the declared row: %+v", got)
	}
}

func TestCreateAPILinkRevivesTombstone(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	mustUpsert(t, s, declared("old", "team-a/old", "uid-1", t0))
	mustExec(t, s, "INSERT INTO url_stats (domain, code, visits) VALUES ('', 'old', 7)")
	if _, ok, err := s.DeleteDeclared(ctx, "", "old", "uid-1"); !ok || err != nil {
		t.Fatalf("delete declared = %v, %v", ok, err)
	}
	tomb := mustGet(t, s, "", "old")
	row, err := s.CreateAPILink(ctx, apiLink("old", "https://example.com/new"))
	if err != nil || row.Source != links.SourceAPI || row.Owner != "" || row.OwnerUID != "" || row.Version <= tomb.Version {
		t.Fatalf("create over a tombstone = %+v, %v", row, err)
	}
	if n := visits(t, s, "old"); n != -1 {
		t.Fatalf("the tombstone's visits (%d) survived the new holder", n)
	}
}

func TestCreateGeneratedAPILinkSkipsHeldCodes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	codes := map[uint64]string{0: "zero", 1: "one", 2: "two"}
	encode := func(n uint64) string { return codes[n] }
	mustUpsert(t, s, declared("zero", "team-a/zero", "uid-0", t0))
	if _, err := s.CreateAPILink(context.Background(), apiLink("one", "https://example.com/custom")); err != nil {
		t.Fatal(err)
	}
	row, err := s.CreateGeneratedAPILink(context.Background(), apiLink("", "https://example.com/gen"), encode)
	if err != nil || row.Code != "two" {
		t.Fatalf("generated = %+v, %v; want code two (zero and one are held)", row, err)
	}
}

// TestGeneratedCreatesDrawCodeValuesInBlocks: a generated create takes its value from a block
// drawn ahead, so api_code_seq moves once per codeBlockSize creates, not once per create, and
// the codes stay distinct.
func TestGeneratedCreatesDrawCodeValuesInBlocks(t *testing.T) {
	t.Parallel()
	s := openStore(t, newDB(t).bouncer, Options{ViaPgBouncer: true})
	encode := benchEncode()
	seq := func() int64 { return queryInt(t, s, "SELECT last_value FROM api_code_seq") }
	create := func() {
		t.Helper()
		if _, err := s.CreateGeneratedAPILink(context.Background(), apiLink("", "https://example.com/gen"), encode); err != nil {
			t.Fatal(err)
		}
	}
	create()
	first := seq()
	for range codeBlockSize - 1 {
		create()
	}
	if got := seq(); got != first {
		t.Fatalf("api_code_seq moved from %d to %d within one block of %d creates", first, got, codeBlockSize)
	}
	create()
	if got := seq(); got != first+codeBlockSize {
		t.Fatalf("api_code_seq = %d after the block ran out, want %d", got, first+codeBlockSize)
	}
	if n := queryInt(t, s, "SELECT count(DISTINCT code) FROM urls WHERE source = 'api'"); n != codeBlockSize+1 {
		t.Fatalf("%d distinct codes, want %d", n, codeBlockSize+1)
	}
}

func TestPatchAPILink(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	created, err := s.CreateAPILink(ctx, apiLink("mine", "https://example.com/1"))
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, declared("theirs", "team-a/theirs", "uid-1", t0))
	move := func(l links.Link) (links.Link, error) { l.Target = "https://example.com/moved"; return l, nil }
	row, err := s.PatchAPILink(ctx, "", "mine", "", move)
	if err != nil || row.Target != "https://example.com/moved" || row.Version <= created.Version {
		t.Fatalf("patch = %+v, %v", row, err)
	}
	refuse := errors.New("refused")
	if _, err := s.PatchAPILink(ctx, "", "mine", "", func(links.Link) (links.Link, error) { return links.Link{}, refuse }); !errors.Is(err, refuse) {
		t.Fatalf("patch refused by apply = %v", err)
	}
	if got := mustGet(t, s, "", "mine"); got.Version != row.Version {
		t.Fatalf("a refused patch wrote version %d", got.Version)
	}
	if _, err := s.PatchAPILink(ctx, "", "theirs", "", move); !errors.Is(err, ErrDeclared) {
		t.Fatalf("patch declared = %v, want ErrDeclared", err)
	}
	if _, err := s.PatchAPILink(ctx, "", "nobody", "", move); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("patch missing = %v, want ErrNotFound", err)
	}
}

func TestDeleteAPILink(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	created, err := s.CreateAPILink(ctx, apiLink("mine", "https://example.com/1"))
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, declared("theirs", "team-a/theirs", "uid-1", t0))
	v, err := s.DeleteAPILink(ctx, "", "mine", "")
	if err != nil || v <= created.Version {
		t.Fatalf("delete = %d, %v", v, err)
	}
	if row := mustGet(t, s, "", "mine"); !row.Deleted || row.Version != v {
		t.Fatalf("row after delete = %+v, want a tombstone at version %d", row, v)
	}
	if _, err := s.DeleteAPILink(ctx, "", "mine", ""); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("delete again = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteAPILink(ctx, "", "theirs", ""); !errors.Is(err, ErrDeclared) {
		t.Fatalf("delete declared = %v, want ErrDeclared", err)
	}
	if row := mustGet(t, s, "", "theirs"); row.Deleted {
		t.Fatal("delete of a declared link made a tombstone")
	}
	if _, _, err := s.GetWithVisits(ctx, "", "mine"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("get of a tombstone = %v, want ErrNotFound", err)
	}
}

// An API link's claim time is its creation: a ShortLink created after it reports the API as
// the holder.
func TestDeclaredAfterAPILinkConflictsNamingAPI(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	created, err := s.CreateAPILink(context.Background(), apiLink("mine", "https://example.com/1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpsertDeclared(context.Background(), declared("mine", "team-a/mine", "uid-1", created.CreatedAt.Add(time.Hour)))
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Holder != links.SourceAPI {
		t.Fatalf("later declared upsert = %v, want a conflict naming api", err)
	}
}
