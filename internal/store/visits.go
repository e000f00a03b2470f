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
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// VisitWriter writes batches of visits for the stats flusher, reusing from batch to batch the
// sums, the parameters and the COPY stream it builds. It is not safe for concurrent use: a
// flusher writes one batch at a time.
type VisitWriter struct {
	store   *Store
	groups  visitGroups
	params  arrayParams
	copyBuf []byte
}

// NewVisitWriter returns a VisitWriter on s, whose pool may go through PgBouncer in transaction
// pooling mode: each batch is one transaction of unprepared statements.
func (s *Store) NewVisitWriter() *VisitWriter {
	return &VisitWriter{store: s, groups: newVisitGroups()}
}

// Write writes a batch of visits in one transaction: its id into stats_batches, its counts
// into visit_hours, url_stats and visit_breakdowns, its rows into visit_logs. duplicate says that the id was
// already there — an earlier attempt committed — so nothing else was written. Errors come back
// as PostgreSQL gave them, for the caller to tell refused data from unavailability.
func (w *VisitWriter) Write(ctx context.Context, batchID string, visits []Visit) (duplicate bool, err error) {
	w.groups.sum(visits) // before the transaction, which then holds a connection for less
	defer w.groups.reset()
	err = pgx.BeginFunc(ctx, w.store.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertBatchIDSQL, batchID)
		if err != nil {
			return fmt.Errorf("record batch id: %w", err)
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		conn := tx.Conn().PgConn()
		if err := w.addCounts(ctx, conn); err != nil {
			return fmt.Errorf("add visit counts: %w", err)
		}
		if err := w.addBreakdowns(ctx, conn); err != nil {
			return err
		}
		w.copyBuf = appendVisitLogs(w.copyBuf[:0], visits)
		if _, err := conn.CopyFrom(ctx, bytes.NewReader(w.copyBuf), copyVisitLogsSQL); err != nil {
			return fmt.Errorf("copy visit logs: %w", err)
		}
		return nil
	})
	return duplicate, err
}

// addCounts sends the batch's counts per link and UTC hour (addCountsSQL).
func (w *VisitWriter) addCounts(ctx context.Context, conn *pgconn.PgConn) error {
	p := &w.params
	p.start(textArray, textArray, timestamptzArray, int8Array, int8Array, timestamptzArray)
	add := func(d *dayGroup, h *hourCount) {
		p.arrays[0].text(d.domain)
		p.arrays[1].text(d.code)
		p.arrays[2].timestamptz(h.hour * 3600 * 1e6)
		p.arrays[3].int8(h.visits)
		p.arrays[4].int8(h.bots)
		p.arrays[5].timestamptz(h.lastMicros)
	}
	g := &w.groups
	for i := range g.groups {
		add(&g.groups[i], &g.groups[i].hour)
	}
	for i := range g.hours {
		add(&g.groups[g.hours[i].group], &g.hours[i].hourCount)
	}
	return p.exec(ctx, conn, addCountsSQL)
}
