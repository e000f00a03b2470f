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

package stats

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The statements of a flush. Each is a single statement with parameters, sent unprepared
// (QueryExecModeExec through PgBouncer), inside the one transaction of its batch.
const (
	// A conflict means an earlier attempt at this batch committed: nothing more is done.
	insertBatchSQL = `INSERT INTO stats_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING`

	// A batch's counts per link and UTC hour go into visit_hours (the API's visit series) and,
	// summed per link, into url_stats. Rows are locked in key order, the same in every replica,
	// so concurrent flushes never deadlock: visit_hours first (the main statement), then
	// url_stats (a data-modifying WITH that nothing reads runs after it). The keys are unique
	// within a batch (summed first), as ON CONFLICT requires.
	addCountsSQL = `WITH counts AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::timestamptz[])
				AS t(domain, code, hour, visits, last_visit_at)
		), links AS (
			INSERT INTO url_stats (domain, code, visits, last_visit_at)
			SELECT domain, code, sum(visits), max(last_visit_at) FROM counts
			GROUP BY domain, code
			ORDER BY domain, code
			ON CONFLICT (domain, code) DO UPDATE
			SET visits = url_stats.visits + EXCLUDED.visits,
			    last_visit_at = greatest(url_stats.last_visit_at, EXCLUDED.last_visit_at)
		)
		INSERT INTO visit_hours (domain, code, hour, visits)
		SELECT domain, code, hour, visits FROM counts
		ORDER BY domain, code, hour
		ON CONFLICT (domain, code, hour) DO UPDATE SET visits = visit_hours.visits + EXCLUDED.visits`
)

// writeBatch writes b in one transaction: its id, its counts, its visit rows. duplicate says
// that the id was already there, so nothing else was written.
func (a *Aggregator) writeBatch(ctx context.Context, b *batch) (duplicate bool, err error) {
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertBatchSQL, b.id)
		if err != nil {
			return fmt.Errorf("record batch id: %w", err)
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		c := sumCounts(b.visits)
		if _, err := tx.Exec(ctx, addCountsSQL, c.domains, c.codes, c.hours, c.visits, c.lastVisits); err != nil {
			return fmt.Errorf("add visit counts: %w", err)
		}
		a.copyBuf = appendVisitLogs(a.copyBuf[:0], b.visits)
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(a.copyBuf), copyVisitLogsSQL); err != nil {
			return fmt.Errorf("copy visit logs: %w", err)
		}
		return nil
	})
	return duplicate, err
}

// counts are a batch's visits summed per link and UTC hour, as parallel arrays in key order.
type counts struct {
	domains, codes    []string
	hours, lastVisits []time.Time
	visits            []int64
}

type hourKey struct {
	domain, code string
	hour         int64 // Unix time divided by 3600
}

type tally struct {
	visits int64
	last   time.Time
}

func sumCounts(visits []Visit) counts {
	byKey := make(map[hourKey]tally)
	for _, v := range visits {
		k := hourKey{v.Domain, v.Code, v.At.Unix() / 3600}
		t := byKey[k]
		t.visits++
		if v.At.After(t.last) {
			t.last = v.At
		}
		byKey[k] = t
	}
	keys := make([]hourKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y hourKey) int {
		return cmp.Or(strings.Compare(x.domain, y.domain), strings.Compare(x.code, y.code), cmp.Compare(x.hour, y.hour))
	})
	c := counts{
		domains:    make([]string, len(keys)),
		codes:      make([]string, len(keys)),
		hours:      make([]time.Time, len(keys)),
		lastVisits: make([]time.Time, len(keys)),
		visits:     make([]int64, len(keys)),
	}
	for i, k := range keys {
		c.domains[i], c.codes[i], c.hours[i] = k.domain, k.code, time.Unix(k.hour*3600, 0)
		c.visits[i], c.lastVisits[i] = byKey[k].visits, byKey[k].last
	}
	return c
}
