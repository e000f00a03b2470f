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

package cache

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

var everyField = links.Link{
	Domain: "go.example.com", Code: "docs", Target: "https://example.com/a?b=c#d", RedirectType: 308,
	ForwardQuery: true, ForwardPath: true, MaxVisits: 1 << 40, ValidSince: time.Date(1969, 1, 2, 3, 4, 5, 6, time.UTC),
	ValidUntil: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ExpiredTarget: "https://example.com/expired",
	Suspended: true, Tags: []string{"a", "", "日本語 | 🎉"}, Source: links.SourceK8s, Owner: "team/docs",
	OwnerUID: "0b7a3c1e-9a52-4b1f-8f5e-0e6c1d2f3a4b", Version: 42,
}

// everyField must set every links.Link field, so the round trips below cover a new one.
func TestEveryFieldIsSet(t *testing.T) {
	l := reflect.ValueOf(everyField)
	for i := range l.NumField() {
		if l.Field(i).IsZero() {
			t.Errorf("everyField leaves links.Link.%s at its zero value: set it", l.Type().Field(i).Name)
		}
	}
}

func TestBinaryPayloadRoundTrips(t *testing.T) {
	for _, l := range []links.Link{
		everyField,
		{Code: "x", Target: "https://example.com/", RedirectType: 302, Version: 1},
		{Code: "y", Version: 1}, // a zero link still round-trips
	} {
		value := strconv.FormatInt(l.Version, 10) + versionSep + encodePayload(l)
		e, err := decodeEntry(l.Domain, l.Code, value)
		if err != nil || e.Deleted || !reflect.DeepEqual(e.Link, l) {
			t.Errorf("decodeEntry = %+v, %v\nwant %+v", e.Link, err, l)
		}
	}
}

// TestEveryTruncationIsRefused cuts a full entry at every length: a short or damaged value must
// be an error, never a link with fields missing.
func TestEveryTruncationIsRefused(t *testing.T) {
	value := "42|" + encodePayload(everyField)
	for n := len("42|") + 1; n < len(value); n++ {
		if e, err := decodeEntry("go.example.com", "docs", value[:n]); err == nil {
			t.Fatalf("decodeEntry of %d of %d bytes = %+v; want an error", n, len(value), e)
		}
	}
	if _, err := decodeEntry("go.example.com", "docs", value+"x"); err == nil {
		t.Fatal("decodeEntry accepted trailing bytes")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add("42|" + encodePayload(everyField))
	f.Add(`4|{"t":"https://example.com/"}`)
	f.Add("7|")
	f.Fuzz(func(t *testing.T, value string) {
		e, err := decodeEntry("", "c", value)
		if err != nil || e.Deleted {
			return
		}
		again, err := decodeEntry("", "c", strconv.FormatInt(e.Link.Version, 10)+versionSep+encodePayload(e.Link))
		if err != nil || !sameLink(again.Link, e.Link) {
			t.Fatalf("re-encoded %+v decodes as %+v, %v", e.Link, again.Link, err)
		}
	})
}

func sameLink(a, b links.Link) bool {
	return a.SameDeclaration(b) && a.Version == b.Version && len(a.Tags) == len(b.Tags)
}

// BenchmarkDecodeEntry is what a redirector's in-process cache miss pays to read a Redis entry.
//
// Run: go test -run '^$' -bench DecodeEntry -benchmem ./internal/cache/
func BenchmarkDecodeEntry(b *testing.B) {
	l := links.Link{Code: "c1", Target: "https://example.com/landing/1", RedirectType: 302, Source: links.SourceAPI, Version: 7}
	for _, tc := range []struct{ name, value string }{
		{"binary", "7|" + encodePayload(l)},
		{"json", `7|{"t":"https://example.com/landing/1","r":302,"s":"api"}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeEntry("", "c1", tc.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
