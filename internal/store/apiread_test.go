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
	"slices"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestListLinks(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	for _, code := range []string{"e", "b", "d", "a", "c", "gone"} {
		l := apiLink(code, "https://example.com/"+code)
		if code == "b" || code == "d" || code == "gone" {
			l.Tags = []string{"news", "x"}
		}
		if _, err := s.CreateAPILink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteAPILink(ctx, "", "gone", ""); err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, declared("f", "team-a/f", "uid-f", t0))
	other := apiLink("a0", "https://example.com/other")
	other.Domain = "go.example.com"
	if _, err := s.CreateAPILink(ctx, other); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    ListQuery
		want []string
	}{
		{ListQuery{Limit: 100}, []string{"a", "b", "c", "d", "e", "f"}},
		{ListQuery{Limit: 2}, []string{"a", "b"}},
		{ListQuery{Limit: 2, After: "b"}, []string{"c", "d"}},
		{ListQuery{Limit: 2, After: "f"}, nil},
		{ListQuery{Limit: 100, Tag: "news"}, []string{"b", "d"}},
		{ListQuery{Limit: 1, Tag: "news", After: "b"}, []string{"d"}},
		{ListQuery{Limit: 100, Tag: "none"}, nil},
		{ListQuery{Limit: 100, Domain: "go.example.com"}, []string{"a0"}},
	}
	for _, tt := range tests {
		rows, err := s.ListLinks(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Code)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListLinks(%+v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestVisitSeries(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CreateAPILink(ctx, apiLink("seen", "https://example.com/seen")); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC)
	for _, v := range []struct {
		at   time.Time
		code string
		bot  bool
	}{
		{day.Add(-time.Second), "seen", false},                  // before the series
		{day.Add(time.Hour), "seen", false},                     // day 0
		{day.Add(time.Hour), "seen", true},                      // day 0, a bot
		{day.Add(23*time.Hour + 59*time.Minute), "seen", false}, // day 0
		{day.Add(48*time.Hour + time.Minute), "seen", false},    // day 2
		{day.Add(48*time.Hour + time.Minute), "seen", true},     // day 2, a bot
		{day.Add(48*time.Hour + time.Minute), "seen", true},     // day 2, a bot
		{day.Add(72 * time.Hour), "seen", true},                 // after the series
		{day.Add(time.Hour), "other", false},
	} {
		// As a flush counts: every visit in visits, the bots' part in bot_visits too.
		mustExec(t, s, `INSERT INTO visit_hours (domain, code, hour, visits, bot_visits)
			VALUES ('', $2, date_bin('1 hour', $1::timestamptz, '2000-01-01Z'), 1, $3::boolean::int)
			ON CONFLICT (domain, code, hour) DO UPDATE
			SET visits = visit_hours.visits + 1, bot_visits = visit_hours.bot_visits + $3::boolean::int`, v.at, v.code, v.bot)
	}
	got, err := s.VisitSeries(ctx, "", "seen", day, 24*time.Hour, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []VisitCount{{day, 2, 1}, {day.Add(24 * time.Hour), 0, 0}, {day.Add(48 * time.Hour), 1, 2}}
	if len(got) != len(want) {
		t.Fatalf("series = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Visits != want[i].Visits || got[i].BotVisits != want[i].BotVisits {
			t.Fatalf("series = %v, want %v", got, want)
		}
	}
	if _, err := s.VisitSeries(ctx, "", "nobody", day, time.Hour, 3); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("series of an unknown code = %v, want ErrNotFound", err)
	}
}
