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
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/stats"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Bad parameters of the breakdown answer 400 naming them; a missing link 404.
func TestBreakdownRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/b", "code": "b"}`)
	for _, tt := range []struct {
		path   string
		status int
		field  string
	}{
		{"/api/v1/links/b/breakdown?from=yesterday", 400, "from"},
		{"/api/v1/links/b/breakdown?to=2026-13-01T00:00:00Z", 400, "to"},
		{"/api/v1/links/b/breakdown?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "from"},
		{"/api/v1/links/b/breakdown?from=2025-01-01T00:00:00Z&to=2026-05-01T00:00:00Z", 400, "from"},
		{"/api/v1/links/missing/breakdown", 404, ""},
		{"/api/v1/links/b/breakdown?from=2025-05-01T00:00:00Z&to=2026-05-01T00:00:00Z", 200, ""},
	} {
		rec := f.call("GET", tt.path, "")
		var e api.ErrorResponse
		if rec.Code != tt.status || (tt.status >= 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != tt.field)) {
			t.Errorf("GET %s = %d %s, want %d naming %q", tt.path, rec.Code, rec.Body, tt.status, tt.field)
		}
	}
}

// The breakdown sums the days from from's UTC day while they start before to, as the flush
// wrote them: referrers most first, the top ones of the span kept and the rest in "(other)".
func TestBreakdown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/b", "code": "b"}`)
	visits := stats.New(f.writer, stats.Options{PodID: t.Name(), Registerer: prometheus.NewRegistry()})
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	const iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	record := func(at time.Time, referer string, n int, country string) {
		for range n {
			visits.Record(stats.Visit{Code: "b", At: at, Referer: referer, UserAgent: iPhone, Country: country})
		}
	}
	record(day.Add(-time.Minute), "https://before.example/", 1, "FR") // the day before: left out
	record(day.Add(time.Hour), "https://news.example/", 5, "NZ")
	record(day.Add(25*time.Hour), "https://news.example/", 2, "DE") // the second day
	record(day.Add(26*time.Hour), "", 3, "")
	for i := range store.MaxReferrers { // one visit each: one of them passes into (other)
		record(day.Add(2*time.Hour), fmt.Sprintf("https://site%02d.example/", i), 1, "NZ")
	}
	record(day.Add(48*time.Hour), "https://after.example/", 1, "FR") // at to: left out
	if err := visits.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}

	rec := f.call("GET", "/api/v1/links/b/breakdown?from=2026-05-01T12:00:00Z&to=2026-05-03T00:00:00Z", "")
	var got api.BreakdownResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("breakdown = %d %s", rec.Code, rec.Body)
	}
	if !got.From.Equal(day) || !got.To.Equal(day.Add(48*time.Hour)) || got.Code != "b" {
		t.Errorf("breakdown of %s from %v to %v, want b from %v to %v", got.Code, got.From, got.To, day, day.Add(48*time.Hour))
	}
	wantReferrers := "news.example=7 (direct)=3"
	for i := range store.MaxReferrers - 1 {
		wantReferrers += fmt.Sprintf(" site%02d.example=1", i)
	}
	wantReferrers += " (other)=1"
	for _, c := range []struct {
		name string
		got  []api.BreakdownCount
		want string
	}{
		{"referrers", got.Referrers, wantReferrers},
		{"devices", got.Devices, "mobile=30"},
		{"countries", got.Countries, "NZ=25 DE=2"},
	} {
		if s := countsString(c.got); s != c.want {
			t.Errorf("%s = %s, want %s", c.name, s, c.want)
		}
	}
}

func countsString(cs []api.BreakdownCount) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", c.Value, c.Visits)
	}
	return s
}
