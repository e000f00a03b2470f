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
	"time"

	"github.com/jackc/pgx/v5"
)

// ListQuery selects a page of ListLinks.
type ListQuery struct {
	// Domain is the stored domain ("" for the default one).
	Domain string
	// Tag, when set, keeps only links carrying it.
	Tag string
	// After is the last code of the previous page; "" starts at the beginning.
	After string
	// Limit bounds the page.
	Limit int
	// OwnedBy, when set, keeps only the API links of that owner (the name of the key that made
	// them): no declared link, no other key's. "" lists every live link.
	OwnedBy string
}

// ListLinks returns the live links of a domain, declared or not (see q.OwnedBy), in code
// order: up to q.Limit of them after q.After (keyset pagination on the primary key, or on
// urls_api_owner_idx for one owner's).
func (s *Store) ListLinks(ctx context.Context, q ListQuery) ([]Row, error) {
	sql := "SELECT " + rowColumns + " FROM urls WHERE domain = $1 AND code > $2 AND NOT deleted"
	args := []any{q.Domain, q.After, q.Limit}
	if q.Tag != "" {
		// The containment operator, so the GIN index on tags can serve it.
		args = append(args, q.Tag)
		sql += fmt.Sprintf(" AND tags @> ARRAY[$%d::text]", len(args))
	}
	if q.OwnedBy != "" {
		args = append(args, q.OwnedBy)
		sql += fmt.Sprintf(" AND source = 'api' AND owner = $%d", len(args))
	}
	rows, err := s.pool.Query(ctx, sql+" ORDER BY code LIMIT $3", args...)
	if err != nil {
		return nil, wrap("list links", err)
	}
	out, err := collectRows(rows)
	if err != nil {
		return nil, wrap("list links", err)
	}
	return out, nil
}

// VisitCount is the number of visits in one bucket of a series.
type VisitCount struct {
	Start  time.Time
	Visits int64
}

// visitSeriesSQL sums a link's hourly visit counts (visit_hours) in $4 buckets of $5 from $3,
// empty buckets as 0. The step is exact (hours, or days as 24 hours) and $3 a whole UTC hour, so
// every hour falls in one bucket and the session's time zone plays no part. No row at all means
// no live link.
const visitSeriesSQL = `
WITH buckets AS (
	SELECT generate_series($3::timestamptz, $3::timestamptz + $5::interval * ($4::int - 1), $5::interval) AS start
), counts AS (
	SELECT date_bin($5::interval, hour, $3::timestamptz) AS start, sum(visits)::bigint AS visits
	FROM visit_hours
	WHERE domain = $1 AND code = $2 AND hour >= $3 AND hour < $3::timestamptz + $5::interval * $4::int
	GROUP BY 1
)
SELECT b.start, coalesce(c.visits, 0) FROM buckets b LEFT JOIN counts c USING (start)
WHERE EXISTS (SELECT 1 FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted)
ORDER BY b.start`

// VisitSeries returns the visits of the live link (domain, code), declared or not, in n
// buckets of step from first (the caller aligns first to a whole UTC hour at least), or
// links.ErrNotFound. Visits are counted by the code, so they include those of earlier holders.
func (s *Store) VisitSeries(ctx context.Context, domain, code string, first time.Time, step time.Duration, n int) ([]VisitCount, error) {
	rows, err := s.pool.Query(ctx, visitSeriesSQL, domain, code, first, n, step)
	if err != nil {
		return nil, wrap("visit series", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[VisitCount])
	if err == nil && len(out) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return nil, wrap("visit series", err)
	}
	return out, nil
}
