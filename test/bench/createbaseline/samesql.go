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

package main

import (
	"context"
	"net/http"
	"strconv"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// sameSQL stores links through internal/store's methods, as the API's handlers call them: the
// same statements, the same transaction, the same pool settings. What it leaves out is what
// the API adds around them — the key check, the URL policy and normalization, the code
// permutation, the per-link answer.
type sameSQL struct {
	store *store.Store
}

// owner is the key name the API would stamp on each link (the bench's key is named "bench").
const owner = "bench"

// encode writes a sequence value as a code no API code can be: "b_" and base 36.
func encode(n uint64) string { return "b_" + strconv.FormatUint(n, 36) }

func apiLink(target string) links.Link {
	return links.Link{Target: target, RedirectType: links.DefaultRedirectType, Source: links.SourceAPI, Owner: owner}
}

func (s *sameSQL) ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *sameSQL) create(w http.ResponseWriter, r *http.Request) {
	l, ok := decodeLink(w, r)
	if !ok {
		return
	}
	row, err := s.store.CreateGeneratedAPILink(r.Context(), apiLink(l.Target), encode)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusCreated, codeAnswer{Code: row.Code})
}

func (s *sameSQL) batch(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeBatch(w, r)
	if !ok {
		return
	}
	ls := make([]links.Link, len(in))
	for i, l := range in {
		ls[i] = apiLink(l.Target)
	}
	rows, err := s.store.CreateAPILinks(r.Context(), ls, encode)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	created := 0
	for _, row := range rows {
		if row.Code != "" {
			created++
		}
	}
	writeJSON(w, http.StatusOK, map[string]int{"created": created})
}
