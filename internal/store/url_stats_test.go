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
	"testing"
	"time"
)

func TestVisitTotals(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	last := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	mustUpsert(t, s, declared("counted", "team-a/counted", "uid-counted", t0))
	mustUpsert(t, s, declared("quiet", "team-a/quiet", "uid-quiet", t0))
	mustUpsert(t, s, declared("gone", "team-a/gone", "uid-gone", t0))
	mustDelete(t, s, "gone", "uid-gone")
	other := declared("other", "team-b/other", "uid-other", t0)
	other.InstallID = "install-b"
	mustUpsert(t, s, other)
	for _, code := range []string{"counted", "gone", "other"} {
		mustExec(t, s, "INSERT INTO url_stats (domain, code, visits, bot_visits, last_visit_at) VALUES ('', $1, 42, 5, $2)", code, last)
	}

	got, err := s.VisitTotals(context.Background(), "install-a")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b VisitTotal) int { return strings.Compare(a.Owner, b.Owner) })
	want := []VisitTotal{
		{Code: "counted", Owner: "team-a/counted", OwnerUID: "uid-counted", Visits: 37, BotVisits: 5, LastVisitAt: last}, // 42 visits, 5 of them bots
		{Code: "quiet", Owner: "team-a/quiet", OwnerUID: "uid-quiet"},
	}
	if !slices.EqualFunc(got, want, func(a, b VisitTotal) bool {
		return a.Domain == b.Domain && a.Code == b.Code && a.Owner == b.Owner && a.OwnerUID == b.OwnerUID && a.Visits == b.Visits && a.BotVisits == b.BotVisits && a.LastVisitAt.Equal(b.LastVisitAt)
	}) {
		t.Fatalf("visit totals = %+v, want %+v", got, want)
	}
}
