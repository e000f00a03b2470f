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
	"errors"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/links"
)

func FuzzDecodeCreate(f *testing.F) {
	for _, seed := range []string{
		`{"target": "https://example.com/", "code": "abc", "redirectType": 301, "tags": ["a"]}`,
		`{"target": null, "validSince": "2026-01-01T00:00:00Z", "validUntil": null}`,
		`{"forwardQuery": true, "suspend": false, "expiredTarget": "https://example.org/"}`,
		`{"domain": "go.example.com"}`, `{}`, `null`, `[]`, `{"target": 1}`, `{"x": 1}`, `{} {}`, ``, `{"tags": [1]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := api.DecodeLinkRequest(strings.NewReader(body))
		if err != nil {
			var fe *links.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("decode %q: %v, want a *links.FieldError naming a field", body, err)
			}
			return
		}
		if req.Target.Set && !req.Target.Null && req.Target.V == "" && !strings.Contains(body, `""`) {
			t.Fatalf("decode %q: an empty target out of nothing", body)
		}
	})
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	good := "# comment\n\nci:0123456789abcdef\nops:sha256:" + strings.Repeat("ab", 32) + "\n"
	keys, err := api.LoadKeys(strings.NewReader(good))
	if err != nil || keys.Len() != 2 {
		t.Fatalf("LoadKeys = %v, %v; want 2 keys", keys, err)
	}
	scoped := "ci:0123456789abcdef ops=create,read\tdomains=go.example.com,S.example.com\nall:fedcba9876543210\n"
	if keys, err := api.LoadKeys(strings.NewReader(scoped)); err != nil || keys.Len() != 2 {
		t.Fatalf("LoadKeys(scoped) = %v, %v; want 2 keys", keys, err)
	}
	for _, bad := range []string{"nokey\n", ":0123456789abcdef\n", "short:abc\n", "h:sha256:abcd\n",
		"k:0123456789abcdef ops=\n", "k:0123456789abcdef ops=create,publish\n", "k:0123456789abcdef ops=read ops=create\n",
		"k:0123456789abcdef domains=a..b\n", "k:0123456789abcdef domains=go.example.com,\n", "k:0123456789abcdef owner=me\n",
		"k:0123456789abcdef stray\n"} {
		if _, err := api.LoadKeys(strings.NewReader(bad)); err == nil {
			t.Errorf("LoadKeys(%q) accepted", bad)
		}
	}
}
