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
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// fullLink is a link with every field set to a value other than its zero, so that a field a
// statement leaves out cannot come back equal by chance. TestFullLinkSetsEveryField makes a new
// links.Link field fail until it is set here too.
func fullLink(code string) links.Link {
	return links.Link{
		Domain: "go.example.com", Code: code, Target: "https://example.com/full/" + code,
		RedirectType: 308, ForwardQuery: true, ForwardPath: true, MaxVisits: 1000,
		ValidSince:    time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		ValidUntil:    time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC),
		ExpiredTarget: "https://example.com/expired", Suspended: true, Tags: []string{"b", "a"},
		Source: links.SourceK8s, Owner: "team-a/" + code, OwnerUID: "uid-" + code, Version: 1,
	}
}

// otherLink is l with every field a patch may change set to another value.
func otherLink(l links.Link) links.Link {
	l.Target, l.RedirectType, l.ForwardQuery, l.ForwardPath = l.Target+"/other", 307, false, false
	l.MaxVisits++
	l.ValidSince, l.ValidUntil = l.ValidSince.Add(time.Hour), l.ValidUntil.Add(time.Hour)
	l.ExpiredTarget, l.Suspended, l.Tags = l.ExpiredTarget+"/other", false, []string{"c"}
	return l
}

func TestFullLinkSetsEveryField(t *testing.T) {
	l := reflect.ValueOf(fullLink("x"))
	for i := range l.NumField() {
		if l.Field(i).IsZero() {
			t.Errorf("fullLink leaves links.Link.%s at its zero value: set it", l.Type().Field(i).Name)
		}
	}
}

// differentFields names the links.Link fields in which got differs from want (times compared as
// instants).
func differentFields(want, got links.Link) []string {
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	var diff []string
	for i := range w.NumField() {
		same := reflect.DeepEqual(w.Field(i).Interface(), g.Field(i).Interface())
		if wt, ok := w.Field(i).Interface().(time.Time); ok {
			same = wt.Equal(g.Field(i).Interface().(time.Time))
		}
		if !same {
			diff = append(diff, w.Type().Field(i).Name)
		}
	}
	return diff
}

func checkLink(t *testing.T, path string, want, got links.Link) {
	t.Helper()
	if diff := differentFields(want, got); len(diff) > 0 {
		t.Errorf("%s: fields %v differ: got %+v, want %+v", path, diff, got, want)
	}
}

// Every links.Link field is written by every write path and read back by every read path, both
// straight to PostgreSQL and through PgBouncer (text results there, binary here): a field left
// out of any column list, scan or decode fails here (issue 20 item 2).
func TestEveryLinkFieldIsStoredAndReadBack(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	direct := openStore(t, db.direct, Options{})
	bouncer := openStore(t, db.bouncer, Options{ViaPgBouncer: true})
	ctx := context.Background()
	var want []links.Link

	// A declared link, then another one released by its owner's move.
	d := Declared{Link: fullLink("declared"), CreatedAt: t0, InstallID: "install-full", EligibleSinceCreation: true}
	res := mustUpsert(t, direct, d)
	d.Link.Version = res.Version
	want = append(want, d.Link)
	moved := Declared{Link: fullLink("moved"), CreatedAt: t0, InstallID: "install-full"}
	moved.Link.OwnerUID = "uid-mover"
	mustUpsert(t, direct, moved)
	released, err := direct.ReleaseOtherClaims(ctx, "uid-mover", Key{Domain: "go.example.com", Code: "elsewhere"})
	if err != nil || len(released) != 1 {
		t.Fatalf("release other claims: %v, %d rows", err, len(released))
	}
	moved.Link.Version = released[0].Version
	checkLink(t, "ReleaseOtherClaims", moved.Link, released[0].Link)

	// API links: what the API stores is the link as sent, made through the API, held by no UID.
	asAPI := func(l links.Link, version int64) links.Link {
		l.Source, l.OwnerUID, l.Version = links.SourceAPI, "", version
		return l
	}
	one := fullLink("api-one")
	row, err := bouncer.CreateAPILink(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	checkLink(t, "CreateAPILink", asAPI(one, row.Version), row.Link)
	want = append(want, row.Link)
	batch := fullLink("api-batch")
	rows, err := bouncer.CreateAPILinks(ctx, []links.Link{batch}, func(uint64) string { return "unused" })
	if err != nil || len(rows) != 1 {
		t.Fatalf("create API links: %v, %d rows", err, len(rows))
	}
	checkLink(t, "CreateAPILinks", asAPI(batch, rows[0].Version), rows[0].Link)
	want = append(want, rows[0].Link)
	patched := fullLink("api-patched")
	if _, err := bouncer.CreateAPILink(ctx, patched); err != nil {
		t.Fatal(err)
	}
	row, err = bouncer.PatchAPILink(ctx, patched.Domain, patched.Code, "", func(l links.Link) (links.Link, error) {
		checkLink(t, "PatchAPILink's current link", asAPI(patched, l.Version), l)
		return otherLink(l), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLink(t, "PatchAPILink", asAPI(otherLink(patched), row.Version), row.Link)
	want = append(want, row.Link)

	for name, s := range map[string]*Store{"direct": direct, "pgbouncer": bouncer} {
		checkReadPaths(t, name, s, want)
	}
}

// checkReadPaths reads each wanted link back through every read of s.
func checkReadPaths(t *testing.T, name string, s *Store, want []links.Link) {
	t.Helper()
	ctx := context.Background()
	listed, err := s.ListLinks(ctx, ListQuery{Domain: "go.example.com", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	changes, err := s.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := s.Feed(ctx, nil, FeedPosition{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	declaredRows, err := s.ListDeclared(ctx, "install-full", Key{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	find := func(rows []Row, code string) links.Link {
		i := slices.IndexFunc(rows, func(r Row) bool { return r.Code == code })
		if i < 0 {
			return links.Link{}
		}
		return rows[i].Link
	}
	for _, w := range want {
		path := func(read string) string { return name + " " + read + " " + w.Code }
		row, err := s.Get(ctx, w.Domain, w.Code)
		if err != nil {
			t.Fatal(err)
		}
		checkLink(t, path("Get"), w, row.Link)
		l, err := s.Lookup(ctx, w.Domain, w.Code)
		if err != nil {
			t.Fatal(err)
		}
		checkLink(t, path("Lookup"), w, l)
		row, _, err = s.GetWithVisits(ctx, w.Domain, w.Code)
		if err != nil {
			t.Fatal(err)
		}
		checkLink(t, path("GetWithVisits"), w, row.Link)
		checkLink(t, path("ListLinks"), w, find(listed, w.Code))
		checkLink(t, path("Changes"), w, find(changes, w.Code))
		feedRows := make([]Row, len(feed))
		for i, c := range feed {
			feedRows[i] = c.Row
		}
		checkLink(t, path("Feed"), w, find(feedRows, w.Code))
		if w.Source == links.SourceK8s {
			checkLink(t, path("ListDeclared"), w, find(declaredRows, w.Code))
		}
	}
}
