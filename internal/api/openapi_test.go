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
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOpenAPIDescribesEveryRoute: the document parses, and its operations are exactly the
// routes, so neither can change without the other.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi.json: %v, version %q; want OpenAPI 3.1 JSON", err, doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if method != "parameters" {
				described[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	routes := (&server{}).routeTable()
	routed := make([]string, 0, len(routes)+1)
	routed = append(routed, openAPIPattern)
	for _, rt := range routes {
		routed = append(routed, rt.pattern)
	}
	for _, pattern := range routed {
		if !described[pattern] {
			t.Errorf("route %s is not in openapi.json", pattern)
		}
		delete(described, pattern)
	}
	for op := range described {
		t.Errorf("openapi.json describes %s, which is not routed", op)
	}
}

func TestOpenAPIServedWithoutKey(t *testing.T) {
	t.Parallel()
	s := &server{}
	s.routes()
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("GET /api/v1/openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
