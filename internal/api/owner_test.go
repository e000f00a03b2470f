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
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/links"
)

const (
	aliceKey    = "alice-key-0123456789"
	aliceNewKey = "alice-rotated-0123456789"
	bobKey      = "bob-key-0123456789"
	adminKey    = "admin-key-0123456789"
)

// TestKeysOwnTheirLinks: a key sees and changes only the API links made under its name (a
// rotated key of the same name included); links from before owners, and other keys', are not
// found; declared links are read-only and listed for admin keys only; an admin key sees all.
func TestKeysOwnTheirLinks(t *testing.T) {
	t.Parallel()
	keys, err := api.LoadKeys(strings.NewReader("alice:" + aliceKey + "\nalice:" + aliceNewKey +
		"\nbob:" + bobKey + "\nroot:" + adminKey + " scope=admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWithKeys(t, keys)
	create := func(key, body string) {
		t.Helper()
		if rec := f.call("POST", "/api/v1/links", body, key); rec.Code != http.StatusCreated {
			t.Fatalf("create %s = %d %s", body, rec.Code, rec.Body)
		}
	}
	create(aliceKey, `{"target": "https://example.com/alice", "code": "alice"}`)
	create(bobKey, `{"target": "https://example.com/bob", "code": "bob", "suspend": true}`)
	create(bobKey, `{"target": "https://example.com/later", "code": "later", "validSince": "2099-01-01T00:00:00Z"}`)
	if rec := f.call("POST", "/api/v1/links:batch", `{"links": [{"target": "https://example.com/b2", "code": "bob2"}]}`, bobKey); rec.Code != 200 {
		t.Fatalf("batch = %d %s", rec.Code, rec.Body)
	}
	f.declare("decl")
	// A link made before links had owners.
	if _, err := f.writer.CreateAPILink(context.Background(), links.Link{Code: "legacy",
		Target: "https://example.com/legacy", RedirectType: 302, Source: links.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE source = 'api' AND owner = 'alice' AND code = 'alice'"); n != 1 {
		t.Fatal("alice's link is not stored with owner alice")
	}
	if n := f.count("SELECT count(*) FROM urls WHERE source = 'api' AND owner = 'bob'"); n != 3 {
		t.Fatalf("%d links stored with owner bob, want 3 (two creates and a batch)", n)
	}

	tests := []struct {
		name, method, path, body, key string
		want                          int
	}{
		{"owner reads", "GET", "/api/v1/links/alice", "", aliceKey, 200},
		{"owner's rotated key reads", "GET", "/api/v1/links/alice/visits", "", aliceNewKey, 200},
		{"another key reads", "GET", "/api/v1/links/alice", "", bobKey, 404},
		{"another key reads visits", "GET", "/api/v1/links/alice/visits", "", bobKey, 404},
		{"another key patches", "PATCH", "/api/v1/links/alice", `{"target": "https://evil.example.org/"}`, bobKey, 404},
		{"another key deletes", "DELETE", "/api/v1/links/alice", "", bobKey, 404},
		{"a key reads a link without owner", "GET", "/api/v1/links/legacy", "", aliceKey, 404},
		{"a key patches a link without owner", "PATCH", "/api/v1/links/legacy", `{"suspend": true}`, aliceKey, 404},
		{"a key deletes a link without owner", "DELETE", "/api/v1/links/legacy", "", aliceKey, 404},
		{"a key reads a declared link", "GET", "/api/v1/links/decl", "", aliceKey, 200},
		{"a key patches a declared link", "PATCH", "/api/v1/links/decl", `{"suspend": true}`, aliceKey, 409},
		{"a key deletes a declared link", "DELETE", "/api/v1/links/decl", "", aliceKey, 409},
		{"admin reads another's", "GET", "/api/v1/links/alice", "", adminKey, 200},
		{"admin patches a link without owner", "PATCH", "/api/v1/links/legacy", `{"tags": ["seen"]}`, adminKey, 200},
		{"owner patches", "PATCH", "/api/v1/links/bob", `{"tags": ["mine"]}`, bobKey, 200},
	}
	for _, tt := range tests {
		if rec := f.call(tt.method, tt.path, tt.body, tt.key); rec.Code != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, rec.Code, rec.Body, tt.want)
		}
	}
	// What was refused left the rows as they were.
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'alice' AND target = 'https://example.com/alice' AND NOT deleted"); n != 1 {
		t.Fatal("another key's refused patch or delete changed alice's link")
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'legacy' AND tags = '{seen}' AND NOT suspended AND NOT deleted"); n != 1 {
		t.Fatal("the link without owner is not as the admin key left it")
	}

	listed := func(key string) []string {
		t.Helper()
		rec := f.call("GET", "/api/v1/links?limit=1000", "", key)
		var page api.ListResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 {
			t.Fatalf("list = %d %s", rec.Code, rec.Body)
		}
		codes := make([]string, 0, len(page.Links))
		for _, l := range page.Links {
			codes = append(codes, l.Code)
		}
		return codes
	}
	for _, tt := range []struct {
		who, key string
		want     []string
	}{
		{"alice", aliceKey, []string{"alice"}},
		{"alice's rotated key", aliceNewKey, []string{"alice"}},
		{"bob", bobKey, []string{"bob", "bob2", "later"}},
		{"admin", adminKey, []string{"alice", "bob", "bob2", "decl", "later", "legacy"}},
	} {
		if got := listed(tt.key); !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %v, want %v", tt.who, got, tt.want)
		}
	}
	if rec := f.call("DELETE", "/api/v1/links/alice", "", aliceNewKey); rec.Code != http.StatusNoContent {
		t.Fatalf("owner's delete = %d %s", rec.Code, rec.Body)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'alice' AND deleted"); n != 1 {
		t.Fatal("the owner's delete left no tombstone")
	}
}
