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
	"time"

	"github.com/jackc/pgx/v5"
)

// visit_hours holds visits per link and UTC hour, for the API's visit series: visits counts
// every visit, bot_visits the part of them that was a program's (as in url_stats). All SQL that
// touches it is here; the flush's statement takes its visit_hours part from here.

// addHourCountsSQL adds the counts of a flush's counts query to visit_hours; see addCountsSQL
// (visits.go) for the statement it ends and the lock order.
const addHourCountsSQL = `INSERT INTO visit_hours (domain, code, hour, visits, bot_visits)
		SELECT domain, code, hour, visits, bot_visits FROM counts
		ORDER BY domain, code, hour
		ON CONFLICT (domain, code, hour) DO UPDATE
		SET visits = visit_hours.visits + EXCLUDED.visits, bot_visits = visit_hours.bot_visits + EXCLUDED.bot_visits`

// pruneVisitHoursSQL deletes the hourly counts before $1.
const pruneVisitHoursSQL = `DELETE FROM visit_hours WHERE hour < $1`

// VisitCount is the number of visits in one bucket of a series: people's, and programs'.
type VisitCount struct {
	Start     time.Time
	Visits    int64
	BotVisits int64
}

// visitSeriesSQL sums a link's hourly visit counts, people's and programs' apart, in $4 buckets of $5 from $3, empty buckets
// as 0. The step is exact (hours, or days as 24 hours) and $3 a whole UTC hour, so every hour
// falls in one bucket and the session's time zone plays no part. No row at all means no live
// link.
var visitSeriesSQL = `
WITH buckets AS (
	SELECT generate_series($3::timestamptz, $3::timestamptz + $5::interval * ($4::int - 1), $5::interval) AS start
), counts AS (
	SELECT date_bin($5::interval, hour, $3::timestamptz) AS start,
		sum(visits - bot_visits)::bigint AS visits, sum(bot_visits)::bigint AS bot_visits
	FROM visit_hours
	WHERE domain = $1 AND code = $2 AND hour >= $3 AND hour < $3::timestamptz + $5::interval * $4::int
	GROUP BY 1
)
SELECT b.start, coalesce(c.visits, 0), coalesce(c.bot_visits, 0) FROM buckets b LEFT JOIN counts c USING (start)
WHERE ` + liveLinkExistsSQL + `
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

// pruneVisitHours deletes the hourly counts before cutoff, so visit retention holds for them.
func (s *Store) pruneVisitHours(ctx context.Context, cutoff time.Time) error {
	if _, err := s.pool.Exec(ctx, pruneVisitHoursSQL, cutoff); err != nil {
		return wrap("delete old hourly visit counts", err)
	}
	return nil
}
