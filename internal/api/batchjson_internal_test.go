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

package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// oddStrings are the strings encoding/json rewrites: quotes and backslashes, every kind of
// control character, HTML's <>&, U+2028 and U+2029, invalid UTF-8 (a lone byte, a truncated
// rune, a surrogate), and plain multi-byte text that must pass through untouched.
var oddStrings = []string{
	"", "plain", `q"uo"te`, `back\slash`, "\b\f\n\r\t", "\x00\x01\x1f\x7f", "<script>&amp;</script>",
	"line\u2028para\u2029", "bad\xffbyte", "cut\xe2\x82", "\xed\xa0\x80surrogate", "日本語 ünïcödé 🙂",
	"https://example.com/a?b=c&d=<e>", "\xc0\xaf", "é\u2028\xff<",
}

// encodingJSON is what writeJSON wrote for a batch before the answer was written by hand.
func encodingJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBatchAnswerMatchesEncodingJSON: the hand-written batch answer is byte for byte what
// encoding/json's Encoder writes, for odd strings in every string field, every optional field
// set and unset, times in several zones and precisions, nil and empty slices.
func TestBatchAnswerMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("odd", -(9*3600 + 30*60))
	times := []time.Time{
		time.Date(2026, 12, 6, 18, 31, 3, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.FixedZone("east", 14*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 100, time.Local),
	}
	n := func(v int64) *int64 { return &v }
	results := make([]BatchResult, 0, 3*len(oddStrings))
	for i, s := range oddStrings {
		at := times[i%len(times)]
		link := LinkResponse{
			Code: s, ShortURL: "https://sho.rt/" + s, Target: s, RedirectType: 300 + i, ForwardQuery: i%2 == 0,
			ForwardPath: i%3 == 0, Suspend: i%4 == 0, Source: s, Version: int64(i) << 40, CreatedAt: at,
		}
		if i%2 == 1 {
			link.Domain, link.ExpiredTarget, link.MaxVisits = s, s, n(int64(i))
			link.ValidSince, link.ValidUntil = &at, &times[(i+1)%len(times)]
			link.Visits, link.BotVisits = n(0), n(-int64(i))
		}
		switch i % 3 {
		case 0:
			link.Tags = []string{s, "news", s + s}
		case 1:
			link.Tags = []string{}
		}
		results = append(results,
			BatchResult{Status: 201, Link: &link},
			BatchResult{Status: 400, Error: &ErrorResponse{Error: s, Field: s}},
			BatchResult{Status: 409, Error: &ErrorResponse{Error: s + "x"}},
		)
	}
	for _, out := range []BatchResponse{
		{Created: len(oddStrings), Results: results},
		{Created: 0, Results: []BatchResult{}},
		{Created: -1},
		{Results: []BatchResult{{}}},
	} {
		got, ok := appendBatchResponse(nil, out)
		if want := encodingJSON(t, out); !ok || !bytes.Equal(got, want) {
			t.Errorf("hand-written (ok %v):\n%s\nencoding/json:\n%s", ok, got, want)
		}
	}
}

// TestBatchAnswerLeavesUnwritableTimesToEncodingJSON: a time MarshalJSON refuses is not
// written by hand; the answer then is encoding/json's, as before.
func TestBatchAnswerLeavesUnwritableTimesToEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600)),
	} {
		out := BatchResponse{Created: 1, Results: []BatchResult{{Status: 201, Link: &LinkResponse{CreatedAt: at}}}}
		if got, ok := appendBatchResponse(nil, out); ok {
			t.Errorf("%v was written by hand: %s", at, got)
		}
		rec := httptest.NewRecorder()
		writeBatch(rec, out)
		var want bytes.Buffer
		_ = json.NewEncoder(&want).Encode(out)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want.Bytes()) {
			t.Errorf("%v: answered %d %q, want encoding/json's %q", at, rec.Code, rec.Body, want.Bytes())
		}
	}
}

// FuzzBatchAnswerMatchesEncodingJSON: any strings in a link and an error encode as
// encoding/json encodes them.
func FuzzBatchAnswerMatchesEncodingJSON(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s, s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, a, b string, nanos int64) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", int(nanos%86400)))
		link := LinkResponse{Code: a, Domain: b, ShortURL: a + b, Target: b, Tags: []string{a, b},
			Source: a, ExpiredTarget: b, CreatedAt: at, ValidSince: &at}
		out := BatchResponse{Created: 1, Results: []BatchResult{
			{Status: 201, Link: &link}, {Status: 400, Error: &ErrorResponse{Error: a, Field: b}},
		}}
		got, ok := appendBatchResponse(nil, out)
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(out); err != nil {
			if ok {
				t.Fatalf("encoding/json refused (%v), the hand-written answer did not: %s", err, got)
			}
			return
		}
		if !ok || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("hand-written (ok %v):\n%s\nencoding/json:\n%s", ok, got, want.Bytes())
		}
	})
}
