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

// VisitTotal is the visit count of one declared link, for the status rollup.
type VisitTotal struct {
	// Domain and Code are the row's key: the rollup credits a ShortLink only with the row of
	// the code it claims now.
	Domain, Code string
	// Owner is the holding ShortLink's "namespace/name"; OwnerUID tells a restored object apart.
	Owner    string
	OwnerUID string
	// Visits are people's visits and BotVisits programs' (internal/bots); both are 0 for a
	// link that has none yet, or whose counts were reset by a takeover.
	Visits, BotVisits int64
	// LastVisitAt is the latest visit, a person's or a program's; the zero time without one.
	LastVisitAt time.Time
}

// url_stats holds the visit count of each code: visits counts every visit, bot_visits the part
// of them that was a program's, so people's are the difference (migration 0009). All SQL that
// touches it is here; statements that also touch another table take their url_stats part from
// here, and no reader outside this file sees the difference taken.

// visitTotalsSQL reads the visit counts of every live k8s row of installation $1, zero for none.
var visitTotalsSQL = `SELECT u.domain, u.code, u.owner, u.owner_uid,
	coalesce(s.visits - s.bot_visits, 0), coalesce(s.bot_visits, 0), s.last_visit_at
	FROM ` + liveDeclaredSQL + ` u LEFT JOIN url_stats s ON s.domain = u.domain AND s.code = u.code`

// resetVisitCountsSQL deletes the counts of one code: visit counts belong to the holder, so a
// new holder starts from zero.
const resetVisitCountsSQL = "DELETE FROM url_stats WHERE domain = $1 AND code = $2"

// resetVisitCountsOf is a data-modifying WITH query that resets the counts of every code the
// query named rows returns (its domain and code columns).
func resetVisitCountsOf(rows string) string {
	return "DELETE FROM url_stats s USING " + rows + " WHERE s.domain = " + rows + ".domain AND s.code = " + rows + ".code"
}

// visitsOf is two scalar subqueries: people's and programs' visit totals of the row of table
// (0 for none).
func visitsOf(table string) string {
	where := " FROM url_stats s WHERE s.domain = " + table + ".domain AND s.code = " + table + ".code)"
	return "coalesce((SELECT s.visits - s.bot_visits" + where + ", 0), coalesce((SELECT s.bot_visits" + where + ", 0)"
}

// addLinkCountsSQL adds the counts of a flush's counts query, summed per link, to url_stats; see
// addCountsSQL (visits.go) for the statement it is part of and the lock order.
const addLinkCountsSQL = `INSERT INTO url_stats (domain, code, visits, bot_visits, last_visit_at)
		SELECT domain, code, sum(visits), sum(bot_visits), max(last_visit_at) FROM counts
		GROUP BY domain, code
		ORDER BY domain, code
		ON CONFLICT (domain, code) DO UPDATE
		SET visits = url_stats.visits + EXCLUDED.visits,
		    bot_visits = url_stats.bot_visits + EXCLUDED.bot_visits,
		    last_visit_at = greatest(url_stats.last_visit_at, EXCLUDED.last_visit_at)`

// resetVisitCounts deletes the counts of (domain, code) in tx.
func resetVisitCounts(ctx context.Context, tx pgx.Tx, k Key) error {
	if _, err := tx.Exec(ctx, resetVisitCountsSQL, k.Domain, k.Code); err != nil {
		return fmt.Errorf("reset visit counts: %w", err)
	}
	return nil
}

// VisitTotals returns, in one query, the visit counts of every live k8s row stamped with
// installID, links without visits included (at zero), so the rollup can also correct a status
// after a takeover reset the counts.
func (s *Store) VisitTotals(ctx context.Context, installID string) ([]VisitTotal, error) {
	rows, err := s.pool.Query(ctx, visitTotalsSQL, installID)
	if err != nil {
		return nil, wrap("read visit totals", err)
	}
	totals, err := pgx.CollectRows(rows, scanVisitTotal)
	if err != nil {
		return nil, wrap("read visit totals", err)
	}
	return totals, nil
}

func scanVisitTotal(r pgx.CollectableRow) (VisitTotal, error) {
	var v VisitTotal
	var last *time.Time
	if err := r.Scan(&v.Domain, &v.Code, &v.Owner, &v.OwnerUID, &v.Visits, &v.BotVisits, &last); err != nil {
		return VisitTotal{}, err
	}
	v.LastVisitAt = zeroIfNil(last)
	return v, nil
}

// humanVisitsSQL reads people's visits of one code, 0 for none.
const humanVisitsSQL = "SELECT coalesce((SELECT visits - bot_visits FROM url_stats WHERE domain = $1 AND code = $2), 0)"

// HumanVisits returns people's visits of (domain, code) as flushed so far: where a limited
// link's shared count starts when Redis has none.
func (s *Store) HumanVisits(ctx context.Context, domain, code string) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, humanVisitsSQL, domain, code).Scan(&n); err != nil {
		return 0, wrap("read people's visits", err)
	}
	return n, nil
}
