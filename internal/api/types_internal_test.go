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
	"reflect"
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
