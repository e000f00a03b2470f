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
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// statsRows is how many url_stats rows the large-table benchmarks start from: enough that a
// sequential scan of url_stats in a create's stats reset would dominate its cost.
const statsRows = 1_000_000

// bigStatsStore is benchStore with statsRows visit counts for codes no create will use,
// analysed as autovacuum would have.
func bigStatsStore(b *testing.B) *Store {
	b.Helper()
	s := benchStore(b)
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO url_stats (domain, code, visits)
			SELECT '', 'stats-' || i, i FROM generate_series(1, ` + strconv.Itoa(statsRows) + `) i`,
		"ANALYZE url_stats",
	} {
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	return s
}

// BenchmarkCreateAPILinksBigStats is BenchmarkCreateAPILinks over a large url_stats. With -v it
// logs the plan of one batch's insert, which should reach url_stats by its primary key.
func BenchmarkCreateAPILinksBigStats(b *testing.B) {
	// A thousand links of about 1.9 kB each is as large as a batch gets (api.MaxBatchBodyBytes).
	for _, targetLen := range []int{40, 1900} {
		b.Run("target="+strconv.Itoa(targetLen), func(b *testing.B) {
			s, ls, encode := bigStatsStore(b), benchLinks(1000), benchEncode()
			for i := range ls {
				ls[i].Target += strings.Repeat("x", max(0, targetLen-len(ls[i].Target)))
			}
			if testing.Verbose() {
				b.Log(explainBatch(b, s, ls, encode))
			}
			for b.Loop() {
				if _, err := s.CreateAPILinks(context.Background(), ls, encode); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(ls)), "µs/link")
		})
	}
}

// BenchmarkCreateGeneratedAPILinkBigStats is BenchmarkCreateGeneratedAPILink over a large
// url_stats.
func BenchmarkCreateGeneratedAPILinkBigStats(b *testing.B) {
	s, encode := bigStatsStore(b), benchEncode()
	l := benchLinks(1)[0]
	if testing.Verbose() {
		b.Log(explain(b, s.pool, "EXPLAIN (ANALYZE, BUFFERS) "+insertAPISQL, l.Domain, "explain", l.Target,
			l.RedirectType, l.ForwardQuery, nil, nil, l.ExpiredTarget, l.Suspended, []string{}))
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.CreateGeneratedAPILink(context.Background(), l, encode); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// explainBatch runs one batch of ls as CreateAPILinks would, under EXPLAIN ANALYZE, and rolls
// it back.
func explainBatch(b *testing.B, s *Store, ls []links.Link, encode func(uint64) string) string {
	b.Helper()
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, createBatchTableSQL); err != nil {
		b.Fatal(err)
	}
	bt := newAPIBatch(ls)
	if err := bt.assignCodes(ctx, tx, encode, allGenerated(bt.pending)); err != nil {
		b.Fatal(err)
	}
	if err := bt.copy(ctx, tx, false); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, analyzeBatchSQL); err != nil {
		b.Fatal(err)
	}
	return explain(b, tx, "EXPLAIN (ANALYZE, BUFFERS) "+insertAPIBatchSQL)
}

func allGenerated(pending []int) map[int]bool {
	m := make(map[int]bool, len(pending))
	for _, i := range pending {
		m[i] = true
	}
	return m
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func explain(b *testing.B, q querier, sql string, args ...any) string {
	b.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		b.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	return "\n" + strings.Join(lines, "\n")
}
