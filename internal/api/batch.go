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
	"net/http"
	"slices"
	"strconv"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

const (
	// MaxBatchLinks bounds the links of one batch create.
	MaxBatchLinks = 1000
	// MaxBatchBodyBytes bounds a batch body: a thousand links of typical size, with room.
	MaxBatchBodyBytes = 2 << 20
)

// batch creates up to MaxBatchLinks links in one transaction. Each link is checked as a single
// create would check it; a refused one is reported in its result and not written, the others
// are. Only a failure on our side fails the whole request (and then nothing is written).
func (s *server) batch(w http.ResponseWriter, r *http.Request) error {
	items, err := decodeBatch(r.Body)
	if err != nil {
		return err
	}
	if err := s.chargeLinks(r, len(items)); err != nil {
		return err
	}
	s.metrics.batchSize.Observe(float64(len(items)))
	results := make([]BatchResult, len(items))
	var valid []links.Link
	var at []int // the item of each valid link
	for i, item := range items {
		l, err := s.batchLink(r, item)
		if err != nil {
			if results[i], err = failed(err); err != nil {
				return err
			}
			continue
		}
		valid = append(valid, l)
		at = append(at, i)
	}
	out := BatchResponse{Results: results}
	if len(valid) > 0 {
		rows, err := s.store.CreateAPILinks(r.Context(), valid, s.codec.Encode)
		if err != nil {
			return err
		}
		created := make([]LinkResponse, len(rows)) // one allocation, not one a link
		for j, row := range rows {
			if row.Code == "" { // held by a live row, or by an earlier link of the batch
				results[at[j]], _ = failed(store.ErrConflict)
				continue
			}
			created[j] = s.response(row, nil)
			results[at[j]] = BatchResult{Status: http.StatusCreated, Link: &created[j]}
			out.Created++
		}
	}
	writeBatch(w, out)
	return nil
}

// chargeLinks charges a batch of n links to its key one request per link, the request itself
// included, before anything is checked or written: a batch then costs the key what its links
// would cost one by one, so codes cannot be squatted in bulk for the price of one request.
// (The per-IP bucket, which guards against floods of requests, took the request once.) When
// the key's bucket cannot cover the batch it is refused whole; a batch larger than the key's
// burst never fits, and the refusal says so.
func (s *server) chargeLinks(r *http.Request, n int) error {
	name, ok := s.keys.holder(r)
	if n <= 1 || !ok || s.limits.limiter == nil || s.limits.key.Disabled() {
		return nil
	}
	if most := max(s.limits.key.Burst, 1); n > most {
		s.metrics.rateLimited.WithLabelValues(scopeKey).Inc()
		return &rateLimitedError{scope: scopeKey, decision: cache.Decision{Limit: most},
			reason: "the batch holds " + strconv.Itoa(n) + " links and the key's rate limit allows at most " +
				strconv.Itoa(most) + " at once; send smaller batches"}
	}
	_, err := s.take(r, scopeKey, name, s.limits.key, n-1)
	return err
}

func (s *server) batchLink(r *http.Request, item json.RawMessage) (links.Link, error) {
	req, err := decodeLinkObject(item)
	if err != nil {
		return links.Link{}, err
	}
	return s.newLink(r, req)
}

// failed turns the error refusing one link into its result; any other error is returned.
func failed(err error) (BatchResult, error) {
	status, body, _, ok := refusal(err)
	if !ok {
		return BatchResult{}, err
	}
	return BatchResult{Status: status, Error: &body}, nil
}

// decodeBatch reads {"links": [ … ]}, refusing anything else with a *links.FieldError; the
// links are decoded one by one later, each refused on its own.
func decodeBatch(r io.Reader) ([]json.RawMessage, error) {
	dec := json.NewDecoder(r)
	raw, err := readObject(dec)
	if err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, badField("body", "must hold exactly one JSON object")
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if name != "links" {
			return nil, badField(name, "is not a known field")
		}
	}
	items, ok := splitArray(raw["links"])
	if !ok {
		return nil, badField("links", "must be a JSON array of links")
	}
	if len(items) == 0 || len(items) > MaxBatchLinks {
		return nil, badField("links", "must hold 1 to "+strconv.Itoa(MaxBatchLinks)+" links")
	}
	return items, nil
}

// splitArray splits b, a valid JSON value (the decoder checked it), into its elements without
// copying them; null is the empty array, as json.Unmarshal reads it, and ok is false for
// anything else that is not an array. Unmarshalling into []json.RawMessage scanned the batch a
// second time and copied every item: a third of decoding a batch of 1,000 links.
func splitArray(b []byte) (items []json.RawMessage, ok bool) {
	i := skipSpace(b, 0)
	switch {
	case bytes.HasPrefix(b[i:], []byte("null")):
		return nil, true
	case i >= len(b) || b[i] != '[':
		return nil, false
	}
	for i = skipSpace(b, i+1); i < len(b) && b[i] != ']'; i = skipSpace(b, i) {
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		start := i
		i = valueEnd(b, i)
		items = append(items, b[start:i])
	}
	return items, true
}
