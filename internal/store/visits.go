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
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Visit is one counted redirect, as a stats flush writes it.
type Visit struct {
	// Domain and Code name the link as stored in urls (Domain is "" for the default domain).
	Domain, Code string
	// At is when the redirect was answered.
	At time.Time
	// ClientIP is stored anonymised; the zero Addr is stored as NULL.
	ClientIP netip.Addr
	// UserAgent and Referer are stored cleaned and cut to a bounded length.
	UserAgent, Referer string
	// Bot marks a program's visit (internal/bots): counted in visits and in bot_visits, so
	// that people's visits are the difference.
	Bot bool
	// Country is the ISO 3166-1 alpha-2 code of the client's full address, looked up by the
	// redirector before the address is anonymised; "" when it has no database or the database
	// does not know the address. Counted in visit_breakdowns only, never stored per visit.
	Country string
}

// Bound cuts an over-long User-Agent or Referer to the length visit_logs stores, so that what a
// visit held in memory keeps is bounded. A cut makes a copy, so a request's header is not kept
// through a substring either. Text that fits is left as it is (cleaned at write time).
func (v *Visit) Bound() {
	if len(v.UserAgent) > maxUserAgent {
		v.UserAgent = cleanText(v.UserAgent, maxUserAgent)
	}
	if len(v.Referer) > maxReferer {
		v.Referer = cleanText(v.Referer, maxReferer)
	}
}

// addCountsSQL adds a batch's counts per link and UTC hour, every visit and the bots' part of
// them, to visit_hours (the API's visit series) and, summed per link, to url_stats. Rows are
// locked in key order, the same in every replica, so concurrent flushes never deadlock:
// visit_hours first (the main statement), then url_stats (a data-modifying WITH that nothing
// reads runs after it). The keys are unique within a batch (summed first), as ON CONFLICT
// requires.
const addCountsSQL = `WITH counts AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::timestamptz[])
				AS t(domain, code, hour, visits, bot_visits, last_visit_at)
		), links AS (` + addLinkCountsSQL + `)
		` + addHourCountsSQL

// VisitWriter writes batches of visits for the stats flusher, reusing one buffer for their
// COPY streams. It is not safe for concurrent use: a flusher writes one batch at a time.
type VisitWriter struct {
	store   *Store
	copyBuf []byte
}

// NewVisitWriter returns a VisitWriter on s, whose pool may go through PgBouncer in transaction
// pooling mode: each batch is one transaction of unprepared statements.
func (s *Store) NewVisitWriter() *VisitWriter { return &VisitWriter{store: s} }

// Write writes a batch of visits in one transaction: its id into stats_batches, its counts
// into visit_hours, url_stats and visit_breakdowns, its rows into visit_logs. duplicate says that the id was
// already there — an earlier attempt committed — so nothing else was written. Errors come back
// as PostgreSQL gave them, for the caller to tell refused data from unavailability.
func (w *VisitWriter) Write(ctx context.Context, batchID string, visits []Visit) (duplicate bool, err error) {
	err = pgx.BeginFunc(ctx, w.store.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertBatchIDSQL, batchID)
		if err != nil {
			return fmt.Errorf("record batch id: %w", err)
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		c := sumCounts(visits)
		if _, err := tx.Exec(ctx, addCountsSQL, c.domains, c.codes, c.hours, c.visits, c.botVisits, c.lastVisits); err != nil {
			return fmt.Errorf("add visit counts: %w", err)
		}
		if err := addBreakdowns(ctx, tx, visits); err != nil {
			return err
		}
		w.copyBuf = appendVisitLogs(w.copyBuf[:0], visits)
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(w.copyBuf), copyVisitLogsSQL); err != nil {
			return fmt.Errorf("copy visit logs: %w", err)
		}
		return nil
	})
	return duplicate, err
}

// counts are a batch's visits summed per link and UTC hour, as parallel arrays in key order:
// every visit, and the bots' part of them.
type counts struct {
	domains, codes    []string
	hours, lastVisits []time.Time
	visits, botVisits []int64
}

type hourKey struct {
	domain, code string
	hour         int64 // Unix time divided by 3600
}

type tally struct {
	visits, bots int64
	last         time.Time
}

func sumCounts(visits []Visit) counts {
	byKey := make(map[hourKey]tally)
	for _, v := range visits {
		k := hourKey{v.Domain, v.Code, v.At.Unix() / 3600}
		t := byKey[k]
		t.visits++
		if v.Bot {
			t.bots++
		}
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
		botVisits:  make([]int64, len(keys)),
	}
	for i, k := range keys {
		c.domains[i], c.codes[i], c.hours[i] = k.domain, k.code, time.Unix(k.hour*3600, 0)
		t := byKey[k]
		c.visits[i], c.botVisits[i], c.lastVisits[i] = t.visits, t.bots, t.last
	}
	return c
}
