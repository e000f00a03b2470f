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
	"errors"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzBatchItemDecodesAsCreate: an item of a batch decodes, or is refused naming the same
// field, exactly as the same object sent to a single create.
func FuzzBatchItemDecodesAsCreate(f *testing.F) {
	for _, seed := range []string{
		`{"target": "https://example.com/", "code": "abc", "redirectType": 301, "tags": ["a"]}`,
		`{"target": null, "validSince": "2026-01-01T00:00:00Z", "validUntil": "soon"}`,
		`{"suspend": "yes", "colour": 1}`, `{}`, `null`, `[1]`, `{"target": 1}`, `"x"`, `{"a":1,"a":2}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !json.Valid([]byte(body)) {
			return // a batch item is one JSON value: the array around it was decoded already
		}
		want, wantErr := DecodeLinkRequest(bytes.NewReader([]byte(body)))
		got, gotErr := decodeLinkObject(json.RawMessage(body))
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("%q: item %+v, %v; create %+v, %v", body, got, gotErr, want, wantErr)
		}
	})
}

// TestMembers: members counts an object's own members, whatever its strings and nested values
// hold.
func TestMembers(t *testing.T) {
	for body, want := range map[string]int{
		`{}`: 0, `null`: 0, `{"a": 1}`: 1, `{"a": 1, "a": 2}`: 2, `{"a:b": "c:d", "e": {"f": [1, {"g": 2}]}}`: 2,
		`{"a\":": "\\", "b": "x\"}:{"}`: 2, `{"tags": ["a:b", "c"], "\u0074arget": "t"}`: 2,
	} {
		if got := members([]byte(body)); got != want {
			t.Errorf("members(%s) = %d, want %d", body, got, want)
		}
	}
}

// decodeBatchByUnmarshal is decodeBatch as it was before splitArray: the reference.
func decodeBatchByUnmarshal(body string) ([]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	raw, err := readObject(dec)
	if err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badField("body", "must hold exactly one JSON object")
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if name != "links" {
			return nil, badField(name, "is not a known field")
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw["links"], &items); err != nil {
		return nil, badField("links", "must be a JSON array of links")
	}
	if len(items) == 0 || len(items) > MaxBatchLinks {
		return nil, badField("links", "must hold 1 to "+strconv.Itoa(MaxBatchLinks)+" links")
	}
	return items, nil
}

// FuzzDecodeBatchSplitsAsUnmarshal: the batch's array split by hand gives the items, or the
// refusal, that unmarshalling it into []json.RawMessage gave.
func FuzzDecodeBatchSplitsAsUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`{"links": [{"target": "https://example.com/"}, {"code": "a,b]"} ,[1, 2], "x]", null, 12.5e3, true]}`,
		"{\"links\":\n\t[ {\"a\": {\"b\": [\"]\", \"\\\"\"]}} ]\r\n}", `{"links": []}`, `{"links": null}`,
		`{"links": {}}`, `{"links": "[1]"}`, `{}`, `{"links": [1], "x": 2}`, `{"links": [1]} {}`, `[]`,
		`{"links": [ ]}`, `{"links": [-0, "\u005d", {}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		want, wantErr := decodeBatchByUnmarshal(body)
		got, gotErr := decodeBatch(strings.NewReader(body))
		if len(got) != len(want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("%q: split %d items, %v; unmarshal %d items, %v", body, len(got), gotErr, len(want), wantErr)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: item %d split as %q, unmarshal %q", body, i, got[i], want[i])
			}
		}
	})
}
