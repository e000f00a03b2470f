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
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// The create benchmarks of make bench, without HTTP: the API's store calls beside the plain
// INSERT and COPY of its baseline, through PgBouncer. Compare them in one run.

func benchLinks(n int) []links.Link {
	ls := make([]links.Link, n)
	for i := range ls {
		ls[i] = links.Link{Target: fmt.Sprintf("https://example.com/bench/batch/%d", i), RedirectType: 302,
			Source: links.SourceAPI}
	}
	return ls
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	return openStore(b, newDB(b).bouncer, Options{ViaPgBouncer: true, MaxConns: 4})
}

func benchEncode() func(uint64) string {
	codec, err := links.NewCodec([]byte("bench-codec-secret-0123"), 6)
	if err != nil {
		panic(err)
	}
	return codec.Encode
}

func BenchmarkCreateAPILinks(b *testing.B) {
	s, ls, encode := benchStore(b), benchLinks(1000), benchEncode()
	for b.Loop() {
		if _, err := s.CreateAPILinks(context.Background(), ls, encode); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(ls)), "µs/link")
}

func BenchmarkCopyBaseline(b *testing.B) {
	s, ls := benchStore(b), benchLinks(1000)
	n := 0
	for b.Loop() {
		now := time.Now()
		rows := make([][]any, len(ls))
		for i, l := range ls {
			n++
			rows[i] = []any{"", fmt.Sprintf("b-%d", n), l.Target, "api", now}
		}
		_, err := s.pool.CopyFrom(context.Background(), pgx.Identifier{"urls"},
			[]string{"domain", "code", "target", "source", "created_at"}, pgx.CopyFromRows(rows))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(ls)), "µs/link")
}

func BenchmarkCreateGeneratedAPILink(b *testing.B) {
	s, encode := benchStore(b), benchEncode()
	l := benchLinks(1)[0]
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.CreateGeneratedAPILink(context.Background(), l, encode); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNextvalInsertBaseline is a generated create as it was before values were drawn in
// blocks: nextval, then the INSERT, two round trips.
func BenchmarkNextvalInsertBaseline(b *testing.B) {
	s, encode := benchStore(b), benchEncode()
	l := benchLinks(1)[0]
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var n int64
			if err := s.pool.QueryRow(context.Background(), "SELECT nextval('api_code_seq')").Scan(&n); err != nil {
				b.Error(err)
				return
			}
			l := l
			l.Code = encode(uint64(n)) //nolint:gosec // the sequence starts at 0 and only grows
			if _, err := s.insertAPI(context.Background(), l); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkInsertBaseline(b *testing.B) {
	s, l := benchStore(b), benchLinks(1)[0]
	var n atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := s.pool.Exec(context.Background(), `INSERT INTO urls (domain, code, target, source, created_at)
				VALUES ('', $1, $2, 'api', now())`, fmt.Sprintf("b-%d", n.Add(1)), l.Target)
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
