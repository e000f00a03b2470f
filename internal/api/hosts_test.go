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
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// The API reads a target's host as a browser does (WHATWG URL host parsing): the row holds the
// address in its one canonical form and the redirect sends it, and a host ending in a number
// that is no IPv4 address is refused with a 400 naming the field, writing nothing.
func TestAPIStoresAddressesAsBrowsersReadThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	created := f.mustCreate(`{"target": "http://0x7f.1/a", "code": "spelled"}`)
	if created.Target != "http://127.0.0.1/a" {
		t.Fatalf("created target = %q, want http://127.0.0.1/a", created.Target)
	}
	if n := f.count(`SELECT count(*) FROM urls WHERE code = 'spelled' AND target = 'http://127.0.0.1/a'`); n != 1 {
		t.Fatalf("rows with the canonical target = %d, want 1", n)
	}
	eventually(t, "the redirect to the canonical address", func() bool {
		rec := f.call(http.MethodGet, "/spelled", "", "")
		return rec.Code == http.StatusFound && rec.Header().Get("Location") == "http://127.0.0.1/a"
	})
	rec := f.call(http.MethodPatch, "/api/v1/links/spelled", `{"target": "http://[::ffff:127.0.0.1]/b"}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"http://[::ffff:7f00:1]/b"`) {
		t.Fatalf("patch to a mapped address = %d %s, want 200 with http://[::ffff:7f00:1]/b", rec.Code, rec.Body)
	}

	for i, bad := range []struct{ method, path, body, field string }{
		{http.MethodPost, "/api/v1/links", `{"target": "http://1.2.3.08", "code": "bad1"}`, "target"},
		{http.MethodPost, "/api/v1/links", `{"target": "http://foo.09/", "code": "bad2"}`, "target"},
		{http.MethodPost, "/api/v1/links", `{"target": "https://256.0.0.1/", "code": "bad3"}`, "target"},
		{http.MethodPost, "/api/v1/links", `{"target": "https://example.com/", "expiredTarget": "http://1.2.3.08", "code": "bad4"}`, "expiredTarget"},
		{http.MethodPatch, "/api/v1/links/spelled", `{"target": "http://foo.09/"}`, "target"},
	} {
		rec := f.call(bad.method, bad.path, bad.body)
		var e api.ErrorResponse
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != bad.field ||
			!strings.Contains(e.Error, "not a valid IPv4 address") {
			t.Errorf("case %d: %s %s = %d %s, want 400 naming %q", i, bad.method, bad.body, rec.Code, rec.Body, bad.field)
		}
	}
	if n := f.count(`SELECT count(*) FROM urls`); n != 1 {
		t.Fatalf("urls holds %d rows, want only the one good link", n)
	}
	if n := f.count(`SELECT count(*) FROM urls WHERE target = 'http://[::ffff:7f00:1]/b'`); n != 1 {
		t.Fatal("the refused patch changed the stored target")
	}
}

// A blocklist entry for an address refuses every spelling of it at the API.
func TestAPIBlockedAddressBlocksEverySpelling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h, err := api.NewHandler(api.Deps{
		Store: f.writer, Codec: f.codec, Keys: testKeysFor(t),
		Config: api.Config{Site: links.MustSite(testHost), Blocked: []string{"127.0.0.1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{
		"http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[0:0:0:0:0:ffff:7f00:1]/",
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/links", strings.NewReader(`{"target": "`+target+`"}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var e api.ErrorResponse
		if rec.Code < 400 || rec.Code >= 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "target" {
			t.Errorf("create %s = %d %s, want a 4xx naming target", target, rec.Code, rec.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM urls`); n != 0 {
		t.Fatalf("urls holds %d rows, want none", n)
	}
}

func testKeysFor(t *testing.T) *api.Keys {
	t.Helper()
	keys, err := api.LoadKeys(strings.NewReader(testKeys))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// A whole-script confusable host (all-Cyrillic "аррӏе" under .com) is refused with a 400 naming
// the field, in Unicode or punycode; genuine IDNs are stored.
func TestAPIRefusesWholeScriptConfusables(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{"https://аррӏе.com/", "https://xn--80ak6aa92e.com/", "https://www.сосо.org/"} {
		rec := f.call(http.MethodPost, "/api/v1/links", `{"target": "`+target+`"}`)
		var e api.ErrorResponse
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != "target" ||
			!strings.Contains(e.Error, "possible homograph") {
			t.Errorf("create %s = %d %s, want 400 naming target as a homograph", target, rec.Code, rec.Body)
		}
	}
	if n := f.count(`SELECT count(*) FROM urls`); n != 0 {
		t.Fatalf("urls holds %d rows after refusals, want none", n)
	}
	for code, target := range map[string]string{"rf": "https://пример.рф/", "de": "https://münchen.de/", "cn": "https://例子.中国/"} {
		f.mustCreate(`{"target": "` + target + `", "code": "` + code + `"}`)
	}
	if n := f.count(`SELECT count(*) FROM urls WHERE target LIKE 'https://xn--%'`); n != 3 {
		t.Fatalf("genuine IDN rows = %d, want 3", n)
	}
}
