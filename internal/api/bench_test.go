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
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// memoryStore answers creates as PostgreSQL would, without one, so the benchmarks measure the
// handler's own work: decoding, the link policy, codes and the answer.
type memoryStore struct {
	Store
	seq, version atomic.Int64
}

func (m *memoryStore) row(l links.Link) store.Row {
	now := time.Now()
	return store.Row{Link: l, CreatedAt: now, UpdatedAt: now}
}

func (m *memoryStore) CreateGeneratedAPILink(_ context.Context, l links.Link, encode func(uint64) string) (store.Row, error) {
	l.Code = encode(uint64(m.seq.Add(1))) //nolint:gosec // positive
	l.Source, l.Version = links.SourceAPI, m.version.Add(1)
	return m.row(l), nil
}

func (m *memoryStore) CreateAPILinks(_ context.Context, ls []links.Link, encode func(uint64) string) ([]store.Row, error) {
	out := make([]store.Row, len(ls))
	for i, l := range ls {
		if l.Code == "" {
			l.Code = encode(uint64(m.seq.Add(1))) //nolint:gosec // positive
		}
		l.Source, l.Version = links.SourceAPI, m.version.Add(1)
		out[i] = m.row(l)
	}
	return out, nil
}

func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	keys, err := LoadKeys(strings.NewReader("bench:bench-key-0123456789\n"))
	if err != nil {
		b.Fatal(err)
	}
	codec, err := links.NewCodec([]byte("bench-codec-secret-0123"), 6)
	if err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(Deps{Store: &memoryStore{}, Codec: codec, Keys: keys,
		Config: Config{Site: links.MustSite("sho.rt"), Blocked: []string{"evil.example"}}})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchPost(b *testing.B, h http.Handler, path, body string, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench-key-0123456789")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkCreate is the handler's share of the single create of make bench.
func BenchmarkCreate(b *testing.B) {
	benchPost(b, benchHandler(b), "/api/v1/links", `{"target":"https://example.com/bench/created"}`, http.StatusCreated)
}

// BenchmarkBatch is the handler's share of make bench's batch: 1000 links a request.
func BenchmarkBatch(b *testing.B) {
	items := make([]string, MaxBatchLinks)
	for i := range items {
		items[i] = fmt.Sprintf(`{"target":"https://example.com/bench/batch/%d"}`, i)
	}
	body := `{"links":[` + strings.Join(items, ",") + `]}`
	benchPost(b, benchHandler(b), "/api/v1/links:batch", body, http.StatusOK)
}
