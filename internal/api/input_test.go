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
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
)

// TestDuplicateFieldsRefused: a body naming a field twice answers 400 naming the body, and
// writes nothing; in a batch such a link is refused alone.
func TestDuplicateFieldsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/kept", "code": "kept"}`)
	tests := []struct{ name, method, path, body string }{
		{"create", "POST", "/api/v1/links", `{"target": "https://example.com/checked", "code": "dup", "target": "https://example.com/other"}`},
		{"patch", "PATCH", "/api/v1/links/kept", `{"suspend": false, "target": "https://example.com/x", "suspend": true}`},
		{"batch", "POST", "/api/v1/links:batch", `{"links": [{"target": "https://example.com/1", "code": "one"}], "links": []}`},
	}
	for _, tt := range tests {
		rec := f.call(tt.method, tt.path, tt.body)
		var e api.ErrorResponse
		if rec.Code != 400 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "body" {
			t.Errorf("%s with a field twice = %d %s; want 400 naming body", tt.name, rec.Code, rec.Body)
		}
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'kept' AND target = 'https://example.com/kept' AND NOT suspended"); n != 1 {
		t.Fatal("the refused patch changed the link")
	}
	rec := f.call("POST", "/api/v1/links:batch", `{"links": [{"target": "https://example.com/2", "code": "two"},
		{"target": "https://example.com/3", "code": "three", "code": "four"}]}`)
	var got api.BatchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Created != 1 ||
		got.Results[1].Status != 400 || got.Results[1].Error.Field != "body" {
		t.Fatalf("batch with one link naming a field twice = %d %s", rec.Code, rec.Body)
	}
	if n := f.count("SELECT count(*) FROM urls"); n != 2 {
		t.Fatalf("urls holds %d rows, want 2 (kept, two)", n)
	}
}

// TestVisitsOverAnAbsurdSpan: a span too long to count in buckets answers 400 naming from,
// however long (a span past time.Duration's range once overflowed into 404).
func TestVisitsOverAnAbsurdSpan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/v", "code": "v"}`)
	for _, q := range []string{
		"from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
		"step=day&from=1700-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
		"step=hour&from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
	} {
		rec := f.call("GET", "/api/v1/links/v/visits?"+q, "")
		var e api.ErrorResponse
		if rec.Code != 400 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "from" {
			t.Errorf("visits?%s = %d %s; want 400 naming from", q, rec.Code, rec.Body)
		}
	}
	if rec := f.call("GET", "/api/v1/links/v/visits?step=day&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", ""); rec.Code != 200 {
		t.Fatalf("a month by day = %d %s, want 200", rec.Code, rec.Body)
	}
}
