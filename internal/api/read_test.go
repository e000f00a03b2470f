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

package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/stats"
)

// list pages through GET /api/v1/links with query, returning the codes and the pages taken.
func (f *fixture) list(query string) ([]string, int) {
	f.t.Helper()
	var codes []string
	pages, cursor := 0, ""
	for {
		rec := f.call("GET", "/api/v1/links?"+query+"&cursor="+cursor, "")
		var page api.ListResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK {
			f.t.Fatalf("list %s = %d %s", query, rec.Code, rec.Body)
		}
		pages++
		for _, l := range page.Links {
			codes = append(codes, l.Code)
		}
		if page.NextCursor == "" {
			return codes, pages
		}
		cursor = page.NextCursor
	}
}

func TestListPagesThroughLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.declare("decl")
	for _, code := range []string{"e", "b", "d", "a", "c"} {
		f.mustCreate(fmt.Sprintf(`{"target": "https://example.com/%s", "code": %q, "tags": [%q]}`, code, code, "t-"+code))
	}
	f.mustCreate(`{"target": "https://example.com/news1", "code": "n1", "tags": ["news", "x"]}`)
	f.mustCreate(`{"target": "https://example.com/news2", "code": "n2", "tags": ["news"], "domain": "go.example.com"}`)
	f.mustCreate(`{"target": "https://example.com/gone", "code": "gone", "tags": ["news"]}`)
	f.call("DELETE", "/api/v1/links/gone", "")

	all := []string{"a", "b", "c", "d", "decl", "e", "n1"}
	tests := []struct {
		query string
		want  []string
		pages int
	}{
		{"", all, 1},
		{"limit=2", all, 4},
		{"limit=7", all, 1},
		{"limit=1&tag=news", []string{"n1"}, 1},
		{"tag=news&domain=go.example.com", []string{"n2"}, 1},
		{"tag=none", nil, 1},
	}
	for _, tt := range tests {
		got, pages := f.list(tt.query)
		if !slices.Equal(got, tt.want) || pages != tt.pages {
			t.Errorf("list %q = %v in %d pages, want %v in %d", tt.query, got, pages, tt.want, tt.pages)
		}
	}
	rec := f.call("GET", "/api/v1/links?limit=1", "")
	var page api.ListResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Links) != 1 ||
		page.Links[0].Source != "api" || page.Links[0].Tags[0] != "t-a" || page.Links[0].ShortURL != "https://sho.rt/a" {
		t.Fatalf("first page = %s", rec.Body)
	}
}

// TestReadRefusals: bad parameters of the listing and the visits answer 400 naming them.
func TestReadRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/v", "code": "v"}`)
	tests := []struct {
		path   string
		status int
		field  string
	}{
		{"/api/v1/links?limit=0", 400, "limit"},
		{"/api/v1/links?limit=1001", 400, "limit"},
		{"/api/v1/links?limit=ten", 400, "limit"},
		{"/api/v1/links?cursor=***", 400, "cursor"},
		{"/api/v1/links?cursor=XyE", 400, "cursor"}, // base64 of "_!", not a code
		{"/api/v1/links?domain=evil.example", 400, "domain"},
		{"/api/v1/links/v/visits?step=week", 400, "step"},
		{"/api/v1/links/v/visits?from=yesterday", 400, "from"},
		{"/api/v1/links/v/visits?to=2026-13-01T00:00:00Z", 400, "to"},
		{"/api/v1/links/v/visits?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "from"},
		{"/api/v1/links/v/visits?step=hour&from=2026-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "from"},
		{"/api/v1/links/missing/visits", 404, ""},
		{"/api/v1/links/v/visits?step=day&from=2026-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", 200, ""},
	}
	for _, tt := range tests {
		rec := f.call("GET", tt.path, "")
		var e api.ErrorResponse
		if rec.Code != tt.status || (tt.status >= 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != tt.field)) {
			t.Errorf("GET %s = %d %s, want %d naming %q", tt.path, rec.Code, rec.Body, tt.status, tt.field)
		}
	}
}

func TestVisitsSeries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/v", "code": "v"}`)
	f.mustCreate(`{"target": "https://example.com/v", "code": "v", "domain": "go.example.com"}`)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	visits := stats.New(f.writer, stats.Options{PodID: t.Name(), Registerer: prometheus.NewRegistry()})
	for _, v := range []struct {
		at, domain string
		bot        bool
	}{
		{"2026-05-01T09:59:59Z", "", false},        // before from's bucket
		{"2026-05-01T10:00:00Z", "", false},        // 10:00, though before from itself
		{"2026-05-01T10:59:00Z", "", false},        // 10:00
		{"2026-05-01T12:30:00+02:00", "", false},   // 10:00
		{"2026-05-01T10:30:00Z", "", true},         // 10:00, a bot
		{"2026-05-01T12:00:00Z", "", false},        // 12:00
		{"2026-05-01T11:10:00Z", "", true},         // 11:00, a bot
		{"2026-05-01T11:20:00Z", "", true},         // 11:00, a bot
		{"2026-05-01T13:00:00Z", "", false},        // at to: not in the series
		{"2026-05-01T11:00:00Z", otherHost, false}, // another link
	} {
		visits.Record(stats.Visit{Domain: v.domain, Code: "v", At: at(v.at), Bot: v.bot})
	}
	if err := visits.Flush(t.Context()); err != nil { // as a redirector flushes them
		t.Fatal(err)
	}
	rec := f.call("GET", "/api/v1/links/v/visits?step=hour&from=2026-05-01T10:15:00Z&to=2026-05-01T13:00:00Z", "")
	var got api.VisitsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("visits = %d %s", rec.Code, rec.Body)
	}
	want := []api.VisitPoint{
		{Start: at("2026-05-01T10:00:00Z"), Visits: 3, BotVisits: 1}, {Start: at("2026-05-01T11:00:00Z"), Visits: 0, BotVisits: 2},
		{Start: at("2026-05-01T12:00:00Z"), Visits: 1},
	}
	if got.Code != "v" || got.Step != "hour" || got.Total != 4 || got.BotTotal != 3 || !slices.EqualFunc(got.Points, want, func(a, b api.VisitPoint) bool {
		return a.Start.Equal(b.Start) && a.Visits == b.Visits && a.BotVisits == b.BotVisits
	}) {
		t.Fatalf("visits = %+v, want %v, total 4, bot total 3", got, want)
	}
	// By default a day a bucket, thirty days back from to.
	rec = f.call("GET", "/api/v1/links/v/visits?to=2026-05-02T00:00:00Z", "")
	got = api.VisitsResponse{}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("visits = %d %s", rec.Code, rec.Body)
	}
	if got.Step != "day" || len(got.Points) != 30 || got.Total != 6 || got.Points[29].Visits != 6 || got.BotTotal != 3 ||
		!got.Points[0].Start.Equal(at("2026-04-02T00:00:00Z")) {
		t.Fatalf("default visits = %+v, want 30 days from 2026-04-02, 6 visits and 3 bots' on the last", got)
	}
}
