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
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// The hand-built binary arrays reach PostgreSQL as the same values as pgx's own text encoding
// of the same Go values sends: compared by PostgreSQL itself, through PgBouncer, for odd
// strings, extreme numbers, dates and instants on both sides of 2000-01-01, empty arrays and
// large ones.
func TestArrayParamsMatchPgx(t *testing.T) {
	t.Parallel()
	s := openStore(t, newDB(t).bouncer, Options{ViaPgBouncer: true})
	many := make([]string, 10_000)
	for i := range many {
		many[i] = fmt.Sprintf("code-%d", i)
	}
	for _, tc := range []struct {
		name    string
		texts   []string
		ints    []int64
		days    []time.Time
		instant []time.Time
	}{
		{name: "empty"},
		{
			name:  "odd strings",
			texts: []string{"", " ", `"`, `\`, `\\"`, "{}", "{a,b}", ",", "NULL", "null", " padded ", "tab\tand\nnewline", "日本語", "🙂", strings.Repeat("x", 2048)},
		},
		{name: "integers", ints: []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 40}},
		{
			name: "days",
			days: []time.Time{
				time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
				time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2200, 2, 29, 0, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "instants",
			instant: []time.Time{
				time.Unix(0, 0), time.Date(1999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
				time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 12, 34, 56, 123_456_000, time.UTC),
			},
		},
		{name: "many", texts: many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p arrayParams
			p.start(textArray, int8Array, dateArray, timestamptzArray)
			for _, s := range tc.texts {
				p.arrays[0].text(s)
			}
			for _, n := range tc.ints {
				p.arrays[1].int8(n)
			}
			pgDays := make([]pgtype.Date, len(tc.days))
			for i, d := range tc.days {
				p.arrays[2].date(d.Unix() / 86400)
				pgDays[i] = pgtype.Date{Time: d, Valid: true}
			}
			for _, at := range tc.instant {
				p.arrays[3].timestamptz(at.UnixMicro())
			}
			ctx := context.Background()
			// pgx's own text encoding of the same values, as QueryExecModeExec sends it, is $5 to $8.
			values := p.finish()
			oids := slices.Clone(p.oids)
			formats := []int16{1, 1, 1, 1, 0, 0, 0, 0}
			m := pgtype.NewMap()
			for i, v := range []any{emptyIfNil(tc.texts), emptyIfNil(tc.ints), pgDays, emptyIfNil(tc.instant)} {
				b, err := m.Encode(oids[i], pgtype.TextFormatCode, v, nil)
				if err != nil {
					t.Fatal(err)
				}
				values, oids = append(values, b), append(oids, oids[i])
			}
			conn, err := s.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			rows := conn.Conn().PgConn().ExecParams(ctx, `SELECT ARRAY[$1::text[] IS NOT DISTINCT FROM $5::text[],
				$2::int8[] IS NOT DISTINCT FROM $6::int8[], $3::date[] IS NOT DISTINCT FROM $7::date[],
				$4::timestamptz[] IS NOT DISTINCT FROM $8::timestamptz[]]::text,
				ARRAY[cardinality($1::text[]), cardinality($2::int8[]), cardinality($3::date[]), cardinality($4::timestamptz[])]::text`,
				values, oids, formats, nil).Read()
			if rows.Err != nil {
				t.Fatal(rows.Err)
			}
			same, lengths := string(rows.Rows[0][0]), string(rows.Rows[0][1])
			want := fmt.Sprintf("{%d,%d,%d,%d}", len(tc.texts), len(tc.ints), len(tc.days), len(tc.instant))
			if same != "{t,t,t,t}" || lengths != want {
				t.Fatalf("equal to pgx's = %v, lengths %v, want all equal and %v", same, lengths, want)
			}
		})
	}
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
