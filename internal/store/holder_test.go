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
	"strings"
	"sync"
	"testing"
	"time"
)

// holderCase is one claimant arriving at a code that already has a row.
type holderCase struct {
	name string
	// setup writes the row the claimant finds.
	setup    func(t *testing.T, s *Store, code string)
	claimant func(code string) Declared
	// wantHolder is the holder named in the conflict; empty when the claimant takes the row.
	wantHolder string
	// wantVisits is the code's url_stats count afterwards (7 before), -1 for no row.
	wantVisits int64
}

func holdsFor(owner, uid string, at time.Time) func(*testing.T, *Store, string) {
	return func(t *testing.T, s *Store, code string) { mustUpsert(t, s, declared(code, owner, uid, at)) }
}

func tombstoneOf(owner, uid string, at time.Time) func(*testing.T, *Store, string) {
	return func(t *testing.T, s *Store, code string) {
		mustUpsert(t, s, declared(code, owner, uid, at))
		mustDelete(t, s, code, uid)
	}
}

// claimBy is a claim that became eligible after its ShortLink was created (its target was
// refused, its domain unserved, or its spec.domain moved onto the code).
func claimBy(owner, uid string, at time.Time) func(string) Declared {
	return func(code string) Declared { return declared(code, owner, uid, at) }
}

// freshClaimBy is a claim that has stood, eligible, since its ShortLink was created at.
func freshClaimBy(owner, uid string, at time.Time) func(string) Declared {
	return func(code string) Declared { return freshDeclared(code, owner, uid, at) }
}

func freshDeclared(code, owner, uid string, at time.Time) Declared {
	d := declared(code, owner, uid, at)
	d.EligibleSinceCreation = true
	return d
}

func TestUpsertDeclaredHolderRule(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	later := t0.Add(time.Hour)
	apiRowAt := func(at time.Time) func(t *testing.T, s *Store, code string) {
		return func(t *testing.T, s *Store, code string) {
			mustExec(t, s, `INSERT INTO urls (code, target, source, created_at) VALUES ($1, 'https://api.example/', 'api', $2)`, code, at)
		}
	}
	apiRow := apiRowAt(t0)
	tests := []holderCase{
		{name: "older claim holds against a newer one", setup: holdsFor("team-a/first", "uid-a", t0),
			claimant: freshClaimBy("team-b/second", "uid-b", later), wantHolder: "team-a/first", wantVisits: 7},
		{name: "older claim standing since creation takes over when it arrives second, and resets visits",
			setup: holdsFor("team-b/newer", "uid-b", later), claimant: freshClaimBy("team-a/older", "uid-a", t0), wantVisits: -1},
		// Issue 11 item 1: a claim refused or unserved until now is not eligible since its
		// creation, and must not displace the live holder although its timestamp is older.
		{name: "older claim that became eligible later does not displace a live holder",
			setup: holdsFor("team-b/newer", "uid-b", later), claimant: claimBy("team-a/dormant", "uid-a", t0),
			wantHolder: "team-b/newer", wantVisits: 7},
		{name: "equal claim times: the lower UID holds", setup: holdsFor("team-a/x", "uid-b", t0),
			claimant: freshClaimBy("team-b/y", "uid-a", t0), wantVisits: -1},
		{name: "same namespace/name restored with a new UID takes back its row", setup: holdsFor("team-a/docs", "uid-1", t0),
			claimant: claimBy("team-a/docs", "uid-2", t0.AddDate(0, 0, 1)), wantVisits: -1},
		{name: "an API link holds as api", setup: apiRow,
			claimant: freshClaimBy("team-b/late", "uid-b", later), wantHolder: "api", wantVisits: 7},
		// creationTimestamp has whole seconds: a ShortLink made in the same second as an API link,
		// after it, carries a time before the API link's created_at, and must not take it over.
		{name: "an API link holds against a claim of the same second", setup: apiRowAt(t0.Add(700 * time.Millisecond)),
			claimant: freshClaimBy("team-b/same-second", "uid-b", t0), wantHolder: "api", wantVisits: 7},
		{name: "an API link yields to a claim a second older", setup: apiRowAt(t0.Add(700 * time.Millisecond)),
			claimant: freshClaimBy("team-b/older", "uid-b", t0.Add(-time.Second)), wantVisits: -1},
		{name: "an API link holds against an older claim that became eligible later", setup: apiRowAt(t0.Add(700 * time.Millisecond)),
			claimant: claimBy("team-b/dormant", "uid-b", t0.Add(-time.Hour)), wantHolder: "api", wantVisits: 7},
		{name: "another owner's tombstone is taken by a newer claimant", setup: tombstoneOf("team-a/gone", "uid-a", t0),
			claimant: claimBy("team-b/new", "uid-b", later), wantVisits: -1},
		{name: "own tombstone revived keeps its visits", setup: tombstoneOf("team-a/back", "uid-a", t0),
			claimant: claimBy("team-a/back", "uid-a", t0), wantVisits: 7},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, s, fmt.Sprintf("holder-%d", i)) })
	}
}

func (tt holderCase) run(t *testing.T, s *Store, code string) {
	tt.setup(t, s, code)
	mustExec(t, s, "INSERT INTO url_stats (domain, code, visits) VALUES ('', $1, 7)", code)
	before := mustGet(t, s, "", code)
	claimant := tt.claimant(code)

	res, err := s.UpsertDeclared(context.Background(), claimant)
	after := mustGet(t, s, "", code)
	if tt.wantHolder != "" {
		assertConflict(t, err, tt.wantHolder)
		if after.Version != before.Version || after.OwnerUID != before.OwnerUID {
			t.Errorf("row changed in a conflict: %+v -> %+v", before, after)
		}
	} else {
		if err != nil || !res.Changed || res.Created || res.Version <= before.Version {
			t.Fatalf("upsert = %+v, %v; want a takeover above version %d", res, err, before.Version)
		}
		if after.OwnerUID != claimant.Link.OwnerUID || after.Owner != claimant.Link.Owner ||
			!after.CreatedAt.Equal(claimant.CreatedAt) || after.Deleted {
			t.Errorf("row after takeover = %+v, want held by %s claimed at %v", after, claimant.Link.OwnerUID, claimant.CreatedAt)
		}
	}
	if got := visits(t, s, code); got != tt.wantVisits {
		t.Errorf("visits = %d, want %d", got, tt.wantVisits)
	}
}

func TestUpsertDeclaredRacingClaimantsConvergeOnTheOldest(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	const claimants = 4
	claim := func(i int) Declared {
		return freshDeclared("race", fmt.Sprintf("team-%d/race", i), fmt.Sprintf("uid-%d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	// Twice: in the first round arrival order is random; the second must change nothing.
	for round := range 2 {
		results, errs := upsertConcurrently(s, claimants, claim)
		for i, err := range errs {
			if err != nil && !errors.Is(err, ErrConflict) {
				t.Fatalf("round %d, claimant %d: %v", round, i, err)
			}
			if round == 1 && i > 0 {
				assertConflict(t, err, "team-0/race")
			}
		}
		if round == 1 && (errs[0] != nil || results[0].Changed) {
			t.Fatalf("the holder's second upsert = %+v, %v; want an unchanged no-op", results[0], errs[0])
		}
	}
	if row := mustGet(t, s, "", "race"); row.OwnerUID != "uid-0" {
		t.Fatalf("holder = %s, want the oldest claimant uid-0", row.OwnerUID)
	}
}

// Two claims standing since their ShortLinks were created, on a free code: the older holds it
// whichever is written first (DESIGN.md §3: the outcome never depends on reconcile order).
func TestUpsertDeclaredEligibleClaimantsInEitherOrder(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	older := func(code string) Declared { return freshDeclared(code, "team-a/older", "uid-older", t0) }
	newer := func(code string) Declared { return freshDeclared(code, "team-b/newer", "uid-newer", t0.Add(time.Hour)) }
	orders := map[string][]func(string) Declared{"older first": {older, newer}, "newer first": {newer, older}}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			code := "order-" + strings.ReplaceAll(name, " ", "-")
			for _, claim := range order {
				if _, err := s.UpsertDeclared(context.Background(), claim(code)); err != nil && !errors.Is(err, ErrConflict) {
					t.Fatal(err)
				}
			}
			if row := mustGet(t, s, "", code); row.OwnerUID != "uid-older" || row.Deleted {
				t.Fatalf("holder = %s (deleted %v), want uid-older", row.OwnerUID, row.Deleted)
			}
			_, err := s.UpsertDeclared(context.Background(), newer(code))
			assertConflict(t, err, "team-a/older")
		})
	}
}

func upsertConcurrently(s *Store, n int, claim func(int) Declared) ([]Result, []error) {
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.UpsertDeclared(context.Background(), claim(i)) })
	}
	wg.Wait()
	return results, errs
}

func assertConflict(t *testing.T, err error, holder string) {
	t.Helper()
	var conflict *ConflictError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &conflict) {
		t.Fatalf("err = %v, want a ConflictError", err)
	}
	if conflict.Holder != holder {
		t.Fatalf("holder = %q, want %q", conflict.Holder, holder)
	}
}
