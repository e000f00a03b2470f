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
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// get asks the redirector for a code on the default domain.
func (f *fixture) get(code string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/"+code, nil)
	req.Host = testHost
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func TestCreatedCodeRedirects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, body := range []string{
		`{"target": "https://example.com/generated"}`,
		`{"target": "https://example.com/custom", "code": "custom", "redirectType": 308}`,
	} {
		created := f.mustCreate(body)
		rec := f.get(created.Code)
		if rec.Code != created.RedirectType || rec.Header().Get("Location") != created.Target {
			t.Fatalf("GET /%s = %d %q, want %d %q", created.Code, rec.Code, rec.Header().Get("Location"),
				created.RedirectType, created.Target)
		}
	}
}

// TestUnknownCodeRedirectsSoonAfterCreate: a code looked up just before it exists is cached as
// unknown; the change feed must drop that entry, well before the negative TTL (10 s) ends.
func TestUnknownCodeRedirectsSoonAfterCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if rec := f.get("fresh"); rec.Code != http.StatusNotFound {
		t.Fatalf("GET /fresh before create = %d, want 404", rec.Code)
	}
	f.mustCreate(`{"target": "https://example.com/fresh", "code": "fresh"}`)
	eventually(t, "/fresh to redirect", func() bool { return f.get("fresh").Code == http.StatusFound })

	// A patch and a delete reach the redirector the same way.
	f.call("PATCH", "/api/v1/links/fresh", `{"target": "https://example.com/patched"}`)
	eventually(t, "/fresh to follow the patch", func() bool {
		return f.get("fresh").Header().Get("Location") == "https://example.com/patched"
	})
	f.call("DELETE", "/api/v1/links/fresh", "")
	eventually(t, "/fresh to be gone", func() bool { return f.get("fresh").Code == http.StatusNotFound })
}

// TestConcurrentCreatesGiveDistinctCodes: generated codes come from a sequence, so concurrent
// creates never clash.
func TestConcurrentCreatesGiveDistinctCodes(t *testing.T) {
	t.Parallel()
	const creates, workers = 10_000, 32
	f := newFixture(t)
	codes := make(chan string, creates)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < creates; i += workers {
				rec := f.call("POST", "/api/v1/links", fmt.Sprintf(`{"target": "https://example.com/%d"}`, i))
				if rec.Code != http.StatusCreated {
					t.Errorf("create %d = %d %s", i, rec.Code, rec.Body)
					return
				}
				codes <- rec.Header().Get("Location")
			}
		})
	}
	wg.Wait()
	close(codes)
	seen := make(map[string]bool, creates)
	for c := range codes {
		seen[c] = true
	}
	if len(seen) != creates {
		t.Fatalf("%d distinct codes, want %d", len(seen), creates)
	}
	if n := f.count("SELECT count(DISTINCT code) FROM urls WHERE source = 'api'"); n != creates {
		t.Fatalf("urls holds %d API codes, want %d", n, creates)
	}
}

// TestGeneratedCodeSkipsDeclaredCode: a ShortLink holding the code the next sequence value
// maps to is left alone; the create takes the value after.
func TestGeneratedCodeSkipsDeclaredCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.declare(f.codec.Encode(0)) // a fresh api_code_seq starts at 0
	created := f.mustCreate(`{"target": "https://example.com/next"}`)
	if created.Code != f.codec.Encode(1) {
		t.Fatalf("generated code %q, want %q (value 1; value 0's code is declared)", created.Code, f.codec.Encode(1))
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = $1 AND source = 'k8s' AND target LIKE '%/declared/%'",
		f.codec.Encode(0)); n != 1 {
		t.Fatal("the declared link was changed")
	}
}
