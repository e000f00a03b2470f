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
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// Lookup decodes PostgreSQL's binary format itself; pgx's own scanning (Get) is the reference.
func TestLookupDecodesEveryColumnAsPgxDoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	writer := openStore(t, db.direct, Options{})
	reader := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 2})

	full := declared("full", "team-a/full", "uid-full", t0)
	full.Link.Domain = "go.example.com"
	full.Link.Target = "https://example.com/ü?q=1"
	full.Link.RedirectType = 308
	full.Link.ForwardQuery = true
	full.Link.ValidSince = time.Date(1999, 12, 31, 23, 59, 59, 999_999_000, time.UTC) // before PostgreSQL's epoch
	full.Link.ValidUntil = time.Date(2031, 7, 4, 8, 30, 0, 123_456_000, time.UTC)
	full.Link.ExpiredTarget = "https://example.com/over"
	full.Link.Suspended = true
	full.Link.Tags = []string{"a,b", `quote"d`, "{braces}", "ünïcode", ""}
	bare := declared("bare", "team-a/bare", "uid-bare", t0)
	for _, d := range []Declared{full, bare} {
		mustUpsert(t, writer, d)
		want := mustGet(t, writer, d.Link.Domain, d.Link.Code).Link
		got, err := reader.Lookup(ctx, d.Link.Domain, d.Link.Code)
		if err != nil {
			t.Fatalf("lookup %s: %v", d.Link.Code, err)
		}
		if !got.ValidSince.Equal(want.ValidSince) || !got.ValidUntil.Equal(want.ValidUntil) {
			t.Errorf("%s: validity = %v..%v, want %v..%v", d.Link.Code, got.ValidSince, got.ValidUntil, want.ValidSince, want.ValidUntil)
		}
		got.ValidSince, got.ValidUntil, want.ValidSince, want.ValidUntil = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if len(want.Tags) == 0 {
			want.Tags = nil // pgx scans '{}' as an empty slice; Lookup returns nil, which caches encode alike
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: lookup = %+v\nwant       %+v", d.Link.Code, got, want)
		}
	}
	if !mustGet(t, writer, "go.example.com", "full").ValidSince.Equal(full.Link.ValidSince) {
		t.Fatal("the reference lost the microseconds: the comparison above proves nothing")
	}
}

// A row Lookup cannot represent is an error, never a link with a wrong field nor a miss.
func TestLookupRefusesRowsItCannotDecode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	writer := openStore(t, db.direct, Options{})
	reader := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 2})
	for code, set := range map[string]string{
		"infinite": "valid_until = 'infinity'",
		"nulltag":  "tags = ARRAY['a', NULL]",
		"twodims":  "tags = '{{a,b},{c,d}}'",
	} {
		mustUpsert(t, writer, declared(code, "team-a/"+code, "uid-"+code, t0))
		if _, err := writer.Pool().Exec(ctx, "UPDATE urls SET "+set+" WHERE code = $1", code); err != nil {
			t.Fatal(err)
		}
		l, err := reader.Lookup(ctx, "", code)
		if err == nil || errors.Is(err, links.ErrNotFound) {
			t.Errorf("lookup of a row with %s = %+v, %v; want a decoding error", set, l, err)
		}
	}
	if _, err := reader.Lookup(ctx, "", "none"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("lookup of a missing code = %v, want ErrNotFound", err)
	}
}

// The decoder reads bytes from the network: whatever they are, it returns an error or values,
// never a panic.
func FuzzBinaryRow(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 'a'})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, read := range []func(*binaryRow){
			func(d *binaryRow) { d.textArray() },
			func(d *binaryRow) { d.time() },
			func(d *binaryRow) { d.int(2) },
			func(d *binaryRow) { d.int(8) },
			func(d *binaryRow) { d.bool() },
			func(d *binaryRow) { d.text() },
		} {
			read(&binaryRow{vals: [][]byte{b}})
		}
	})
}

func TestBinaryRowRefusesNullAndMissingColumns(t *testing.T) {
	t.Parallel()
	d := binaryRow{vals: [][]byte{nil}}
	if got := d.time(); !got.IsZero() || d.err != nil {
		t.Fatalf("NULL timestamp = %v, %v; want the zero time", got, d.err)
	}
	if d.text(); d.err == nil {
		t.Fatal("reading past the last column succeeded")
	}
	d = binaryRow{vals: [][]byte{nil}}
	if d.text(); d.err == nil {
		t.Fatal("a NULL text was accepted")
	}
}

// TestFeedDecodesEveryColumnAsPgxDoes: the feed's binary rows read as pgx scans the same rows
// (Changes), tombstone, installation, timestamps and transaction id included.
func TestFeedDecodesEveryColumnAsPgxDoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	writer := openStore(t, db.direct, Options{})
	reader := openStore(t, db.bouncer, Options{ViaPgBouncer: true, MaxConns: 2})

	full := Declared{Link: fullLink("full"), CreatedAt: t0, InstallID: "install-feed"}
	full.Link.ValidSince = time.Date(1999, 12, 31, 23, 59, 59, 999_999_000, time.UTC) // before PostgreSQL's epoch
	full.Link.Tags = []string{"a,b", `quote"d`, "{braces}", "ünïcode", ""}
	for _, d := range []Declared{full, declared("bare", "team-a/bare", "uid-bare", t0), declared("gone", "team-a/gone", "uid-gone", t0)} {
		mustUpsert(t, writer, d)
	}
	mustDelete(t, writer, "gone", "uid-gone")

	feed, err := reader.Feed(ctx, nil, FeedPosition{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	want, err := writer.Changes(ctx, 0, 100)
	if err != nil || len(feed) != 3 || len(want) != 3 {
		t.Fatalf("feed %d rows, changes %d rows (%v), want 3 each", len(feed), len(want), err)
	}
	var txids []int64
	rows, _ := writer.Pool().Query(ctx, "SELECT txid FROM urls ORDER BY txid, version")
	if txids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		t.Fatal(err)
	}
	for i, c := range feed {
		w := want[slices.IndexFunc(want, func(r Row) bool { return r.Code == c.Code })]
		if c.Txid != txids[i] || c.Txid <= 0 {
			t.Errorf("%s: txid %d, want %d", c.Code, c.Txid, txids[i])
		}
		got := c.Row
		for _, at := range []struct{ got, want *time.Time }{
			{&got.ValidSince, &w.ValidSince}, {&got.ValidUntil, &w.ValidUntil},
			{&got.CreatedAt, &w.CreatedAt}, {&got.UpdatedAt, &w.UpdatedAt},
		} {
			if !at.got.Equal(*at.want) {
				t.Errorf("%s: time %v, want %v", c.Code, *at.got, *at.want)
			}
			*at.got, *at.want = time.Time{}, time.Time{}
		}
		if len(w.Tags) == 0 {
			w.Tags = nil // pgx scans '{}' as an empty slice; the feed reads nil, which caches encode alike
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: feed = %+v\nwant     %+v", c.Code, got, w)
		}
	}
	if !feed[2].Deleted || feed[2].Code != "gone" || feed[0].InstallID == "" {
		t.Fatalf("feed = %+v, want the tombstone of gone last and installations read", feed)
	}
	first := slices.Clone(feed)
	again, err := reader.Feed(ctx, feed, first[0].Position(), 100) // over the first read's memory
	if err != nil || !reflect.DeepEqual(again, first[1:]) {
		t.Fatalf("feed read again over its memory = %+v (%v), want %+v", again, err, first[1:])
	}
}
