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
	"net/http"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
)

// statusStep is one request of TestStatusCodes: what it answers and, for an error, which
// field its body names.
type statusStep struct {
	name, method, path, body string
	key                      []string
	want                     int
	field                    string
}

func statusSteps() []statusStep {
	big := `{"target": "https://example.com/` + strings.Repeat("a", api.MaxBodyBytes) + `"}`
	return []statusStep{
		{"no key", "POST", "/api/v1/links", `{"target": "https://example.com/"}`, []string{""}, 401, ""},
		{"unknown key", "POST", "/api/v1/links", `{"target": "https://example.com/"}`, []string{"not-a-key-at-all-xx"}, 401, ""},
		{"get without key", "GET", "/api/v1/links/decl", "", []string{""}, 401, ""},
		{"no target", "POST", "/api/v1/links", `{"code": "nope"}`, nil, 400, "target"},
		{"bad target", "POST", "/api/v1/links", `{"target": "ftp://example.com/", "code": "nope"}`, nil, 400, "target"},
		{"loop", "POST", "/api/v1/links", `{"target": "https://sho.rt/x", "code": "nope"}`, nil, 400, "target"},
		{"bad expired target", "POST", "/api/v1/links",
			`{"target": "https://example.com/", "expiredTarget": "javascript:x", "code": "nope"}`, nil, 400, "expiredTarget"},
		{"bad code", "POST", "/api/v1/links", `{"target": "https://example.com/", "code": "_x"}`, nil, 400, "code"},
		{"bad redirect type", "POST", "/api/v1/links", `{"target": "https://example.com/", "redirectType": 303}`, nil, 400, "redirectType"},
		{"wrong type", "POST", "/api/v1/links", `{"target": "https://example.com/", "suspend": "yes"}`, nil, 400, "suspend"},
		{"bad time", "POST", "/api/v1/links", `{"target": "https://example.com/", "validUntil": "tomorrow"}`, nil, 400, "validUntil"},
		{"unknown field", "POST", "/api/v1/links", `{"target": "https://example.com/", "colour": "red"}`, nil, 400, "colour"},
		{"domain not served", "POST", "/api/v1/links", `{"target": "https://example.com/", "domain": "evil.example"}`, nil, 400, "domain"},
		{"not json", "POST", "/api/v1/links", `target=https://example.com/`, nil, 400, "body"},
		{"two objects", "POST", "/api/v1/links", `{"target": "https://example.com/"} {}`, nil, 400, "body"},
		{"too large", "POST", "/api/v1/links", big, nil, 413, "body"},
		{"create", "POST", "/api/v1/links", `{"target": "https://example.com/hello", "code": "hello", "tags": ["a"]}`, nil, 201, ""},
		{"code held", "POST", "/api/v1/links", `{"target": "https://example.com/other", "code": "hello"}`, nil, 409, "code"},
		{"code declared", "POST", "/api/v1/links", `{"target": "https://example.com/other", "code": "decl"}`, nil, 409, "code"},
		{"same code elsewhere", "POST", "/api/v1/links?domain=go.example.com", `{"target": "https://example.com/", "code": "hello"}`, nil, 201, ""},
		{"generated", "POST", "/api/v1/links", `{"target": "https://example.com/gen"}`, nil, 201, ""},
		{"get", "GET", "/api/v1/links/hello", "", nil, 200, ""},
		{"get declared", "GET", "/api/v1/links/decl", "", nil, 200, ""},
		{"get missing", "GET", "/api/v1/links/missing", "", nil, 404, ""},
		{"patch", "PATCH", "/api/v1/links/hello", `{"target": "https://example.com/moved", "tags": null}`, nil, 200, ""},
		{"patch bad", "PATCH", "/api/v1/links/hello", `{"redirectType": 200}`, nil, 400, "redirectType"},
		{"patch code", "PATCH", "/api/v1/links/hello", `{"code": "other"}`, nil, 400, "code"},
		{"patch declared", "PATCH", "/api/v1/links/decl", `{"suspend": true}`, nil, 409, "code"},
		{"patch missing", "PATCH", "/api/v1/links/missing", `{"suspend": true}`, nil, 404, ""},
		{"delete declared", "DELETE", "/api/v1/links/decl", "", nil, 409, "code"},
		{"delete", "DELETE", "/api/v1/links/hello", "", nil, 204, ""},
		{"get deleted", "GET", "/api/v1/links/hello", "", nil, 404, ""},
		{"delete again", "DELETE", "/api/v1/links/hello", "", nil, 404, ""},
		{"create over tombstone", "POST", "/api/v1/links", `{"target": "https://example.com/again", "code": "hello"}`, nil, 201, ""},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", nil, 404, ""},
	}
}

// TestStatusCodes walks one link through its life, with the refusals along the way. Steps run
// in order on one database; each says what it answers and, for a 400, which field it names.
func TestStatusCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.declare("decl")
	steps := statusSteps()
	for _, s := range steps {
		rec := f.call(s.method, s.path, s.body, s.key...)
		if rec.Code != s.want {
			t.Fatalf("%s: %s %s = %d %s, want %d", s.name, s.method, s.path, rec.Code, rec.Body, s.want)
		}
		if s.want >= 400 {
			var e api.ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || e.Field != s.field {
				t.Fatalf("%s: error body %s (%v), want an error naming field %q", s.name, rec.Body, err, s.field)
			}
		}
	}
	// Refused input wrote nothing: the declared link, "hello" twice (default domain and
	// go.example.com), one generated code.
	if n := f.count("SELECT count(*) FROM urls"); n != 4 {
		t.Fatalf("urls holds %d rows, want 4", n)
	}
	if got := f.requests("create", "invalid"); got != 12 {
		t.Fatalf("create/invalid requests = %v, want 12", got)
	}
	if got := f.requests("create", "unauthorized"); got != 2 {
		t.Fatalf("create/unauthorized requests = %v, want 2", got)
	}
}

func TestCreateAnswersLinkAndChangesBumpVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created := f.mustCreate(`{"target": "https://example.com/a", "redirectType": 301, "tags": ["x", "y"]}`)
	if len(created.Code) != 6 || created.ShortURL != "https://sho.rt/"+created.Code || created.Source != "api" {
		t.Fatalf("created = %+v, want a 6-character code on https://sho.rt/", created)
	}
	if created.RedirectType != 301 || len(created.Tags) != 2 || created.Version <= 0 {
		t.Fatalf("created = %+v, want redirectType 301, two tags, a version", created)
	}
	rec := f.call("PATCH", "/api/v1/links/"+created.Code, `{"suspend": true}`)
	var patched api.LinkResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &patched); err != nil || rec.Code != 200 {
		t.Fatalf("patch = %d %s", rec.Code, rec.Body)
	}
	if !patched.Suspend || patched.Version <= created.Version || patched.Target != created.Target {
		t.Fatalf("patched = %+v, want suspended, same target, version above %d", patched, created.Version)
	}
	f.call("DELETE", "/api/v1/links/"+created.Code, "")
	tombstone := f.count("SELECT version FROM urls WHERE code = $1 AND deleted", created.Code)
	if tombstone <= patched.Version {
		t.Fatalf("tombstone version %d, want above %d", tombstone, patched.Version)
	}
}

func TestGetReportsVisits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/v", "code": "counted"}`)
	// 42 visits, 2 of them programs'.
	if _, err := f.writer.Pool().Exec(t.Context(), "INSERT INTO url_stats (domain, code, visits, bot_visits) VALUES ('', 'counted', 42, 2)"); err != nil {
		t.Fatal(err)
	}
	rec := f.call("GET", "/api/v1/links/counted", "")
	var got api.LinkResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("get = %d %s", rec.Code, rec.Body)
	}
	if got.Visits == nil || *got.Visits != 40 || got.BotVisits == nil || *got.BotVisits != 2 {
		t.Fatalf("visits = %v, botVisits = %v; want 40 people's and 2 bots'", got.Visits, got.BotVisits)
	}
}

// forwardPath is stored, answered and changeable like any field, and refused on the code api,
// whose /api/v1/… paths the create API holds (issue 18 item 5).
func TestForwardPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created := f.mustCreate(`{"target": "https://docs.example.com/", "code": "go", "forwardPath": true}`)
	if !created.ForwardPath {
		t.Fatalf("created = %+v, want forwardPath", created)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'go' AND forward_path"); n != 1 {
		t.Fatalf("urls rows with forward_path for go = %d, want 1", n)
	}
	rec := f.call("PATCH", "/api/v1/links/go", `{"forwardPath": false}`)
	if rec.Code != 200 || f.count("SELECT count(*) FROM urls WHERE code = 'go' AND NOT forward_path") != 1 {
		t.Fatalf("patch forwardPath false = %d %s; row not changed", rec.Code, rec.Body)
	}
	rec = f.call("POST", "/api/v1/links", `{"target": "https://example.com/", "code": "api", "forwardPath": true}`)
	var e api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != 400 || err != nil || e.Field != "code" {
		t.Fatalf("forwardPath on the code api = %d %s, want 400 naming code", rec.Code, rec.Body)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'api'"); n != 0 {
		t.Fatalf("a refused link was stored: %d rows", n)
	}
}

// maxVisits is stored, answered and changeable like any field; null removes the limit, and 0
// is refused naming the field, storing nothing (issue 18 item 4).
func TestMaxVisits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created := f.mustCreate(`{"target": "https://shop.example.com/", "code": "camp", "maxVisits": 500}`)
	if created.MaxVisits == nil || *created.MaxVisits != 500 {
		t.Fatalf("created = %+v, want maxVisits 500", created)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'camp' AND max_visits = 500"); n != 1 {
		t.Fatalf("urls rows with max_visits 500 for camp = %d, want 1", n)
	}
	rec := f.call("GET", "/api/v1/links/camp", "")
	var got api.LinkResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil || got.MaxVisits == nil || *got.MaxVisits != 500 {
		t.Fatalf("get = %d %s, want maxVisits 500", rec.Code, rec.Body)
	}
	rec = f.call("PATCH", "/api/v1/links/camp", `{"maxVisits": null}`)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "maxVisits") ||
		f.count("SELECT count(*) FROM urls WHERE code = 'camp' AND max_visits = 0") != 1 {
		t.Fatalf("patch maxVisits null = %d %s; want the limit removed", rec.Code, rec.Body)
	}
	for _, body := range []string{
		`{"target": "https://example.com/", "code": "zero", "maxVisits": 0}`,
		`{"target": "https://example.com/", "code": "zero", "maxVisits": -3}`,
		`{"target": "https://example.com/", "code": "zero", "maxVisits": "ten"}`,
	} {
		rec = f.call("POST", "/api/v1/links", body)
		var e api.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &e); rec.Code != 400 || err != nil || e.Field != "maxVisits" {
			t.Fatalf("%s = %d %s, want 400 naming maxVisits", body, rec.Code, rec.Body)
		}
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'zero'"); n != 0 {
		t.Fatalf("a refused link was stored: %d rows", n)
	}
}
