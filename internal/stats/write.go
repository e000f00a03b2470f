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

	// Rows are locked in key order, the same in every replica, so concurrent flushes never
	// deadlock. The keys are unique within a batch (summed first), as ON CONFLICT requires.
	addCountsSQL = `INSERT INTO url_stats (domain, code, visits, last_visit_at)
		SELECT domain, code, visits, last_visit_at
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[]) AS t(domain, code, visits, last_visit_at)
		ORDER BY domain, code
		ON CONFLICT (domain, code) DO UPDATE
		SET visits = url_stats.visits + EXCLUDED.visits,
		    last_visit_at = greatest(url_stats.last_visit_at, EXCLUDED.last_visit_at)`
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
		if _, err := tx.Exec(ctx, addCountsSQL, c.domains, c.codes, c.visits, c.lastVisits); err != nil {
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

// counts are a batch's visits summed per (domain, code), as parallel arrays in key order.
type counts struct {
	domains, codes []string
	visits         []int64
	lastVisits     []time.Time
}

type linkKey struct{ domain, code string }

type tally struct {
	visits int64
	last   time.Time
}

func sumCounts(visits []Visit) counts {
	byKey := make(map[linkKey]tally)
	for _, v := range visits {
		k := linkKey{v.Domain, v.Code}
		t := byKey[k]
		t.visits++
		if v.At.After(t.last) {
			t.last = v.At
		}
		byKey[k] = t
	}
	keys := make([]linkKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y linkKey) int {
		return cmp.Or(strings.Compare(x.domain, y.domain), strings.Compare(x.code, y.code))
	})
	c := counts{
		domains:    make([]string, len(keys)),
		codes:      make([]string, len(keys)),
		visits:     make([]int64, len(keys)),
		lastVisits: make([]time.Time, len(keys)),
	}
	for i, k := range keys {
		c.domains[i], c.codes[i] = k.domain, k.code
		c.visits[i], c.lastVisits[i] = byKey[k].visits, byKey[k].last
	}
	return c
}
