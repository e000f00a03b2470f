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
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		limit    int
		want     string
	}{
		{"clean input unchanged", "Mozilla/5.0 (X11)", 512, "Mozilla/5.0 (X11)"},
		{"NUL replaced", "a\x00b", 512, "a\uFFFDb"},
		{"invalid bytes replaced", "a\xff\xfeb", 512, "a\uFFFD\uFFFDb"},
		{"cut at the bound", "abcdef", 4, "abcd"},
		{"cut at a character boundary", "aé", 2, "a"},
		{"replacement counts in the bound", "ab\xff", 4, "ab"},
		{"empty", "", 512, ""},
	} {
		if got := cleanText(tc.in, tc.limit); got != tc.want {
			t.Errorf("%s: cleanText(%q, %d) = %q, want %q", tc.name, tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestAnonymize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.77":                      "203.0.113.0",
		"::ffff:198.51.100.200":             "198.51.100.0",
		"2001:db8:1234:5678:9abc:def0:1:2":  "2001:db8:1234::",
		"fe80::1:2:3:4%eth0":                "fe80::",
		"2001:db8:ffff:ffff:ffff:ffff::1":   "2001:db8:ffff::",
		"2001:db8:abcd:12:ffff:ffff:ffff:0": "2001:db8:abcd::",
	} {
		if got := anonymize(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("anonymize(%s) = %s, want %s", in, got, want)
		}
	}
	if got := anonymize(netip.Addr{}); got.IsValid() {
		t.Errorf("anonymize(zero) = %s, want the zero Addr", got)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "Mozilla/5.0", "a\x00b", "\xff\xfe", "é\xc3", strings.Repeat("日本", 400)} {
		f.Add(s, 512)
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 4096 {
			t.Skip()
		}
		got := cleanText(s, limit)
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 || len(got) > limit {
			t.Fatalf("cleanText(%q, %d) = %q: want valid UTF-8 without NUL, at most %d bytes", s, limit, got, limit)
		}
		if len(s) <= limit && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && got != s {
			t.Fatalf("cleanText(%q, %d) = %q: clean input must come back unchanged", s, limit, got)
		}
	})
}
