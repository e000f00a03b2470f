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

package cache_test

import (
	"testing"

	"github.com/shortlink-dev/shortlink/internal/cache"
)

func TestParseInvalidation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cache.Invalidation
	}{
		{"42:go.example.com:docs", cache.Invalidation{Domain: "go.example.com", Code: "docs", Version: 42}},
		{"1::x", cache.Invalidation{Code: "x", Version: 1}},
		{"9223372036854775807:xn--mnchen-3ya.de:A-_9", cache.Invalidation{Domain: "xn--mnchen-3ya.de", Code: "A-_9", Version: 1<<63 - 1}},
	} {
		got, err := cache.ParseInvalidation(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseInvalidation(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if s := tc.want.String(); s != tc.in {
			t.Errorf("%+v.String() = %q, want %q", tc.want, s, tc.in)
		}
	}
}

// garbage is refused by ParseInvalidation; it seeds the fuzz target too.
var garbage = []string{
	"", ":", "::", "1", "1:", "1::", "42:docs", "x:example.com:docs", "0::docs", "-1::docs", "+1::docs",
	"01::docs", " 1::docs", "1::docs ", "9223372036854775808::docs", "1:Example.com:docs", "1:a:b:c",
	"1:example.com:_docs", "1:example.com:a/b", "1:exämple.com:docs", "1:example.com:" + string(make([]byte, 65)),
	"1::\x00", "1::docs\n",
}

func TestParseInvalidationRefusesGarbage(t *testing.T) {
	for _, s := range garbage {
		if inv, err := cache.ParseInvalidation(s); err == nil {
			t.Errorf("ParseInvalidation(%q) = %+v, want an error", s, inv)
		}
	}
}

// FuzzParseInvalidation checks that whatever ParseInvalidation accepts has exactly one spelling
// (String gives the input back) and names a key the cache can write.
func FuzzParseInvalidation(f *testing.F) {
	for _, s := range append([]string{"42:go.example.com:docs", "1::x"}, garbage...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := cache.ParseInvalidation(s)
		if err != nil {
			return
		}
		if inv.Version < 1 {
			t.Fatalf("ParseInvalidation(%q) accepted version %d", s, inv.Version)
		}
		if got := inv.String(); got != s {
			t.Fatalf("ParseInvalidation(%q).String() = %q: not the one spelling", s, got)
		}
		again, err := cache.ParseInvalidation(inv.String())
		if err != nil || again != inv {
			t.Fatalf("round trip of %q = %+v, %v", s, again, err)
		}
	})
}
