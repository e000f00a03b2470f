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

// Package stats counts visits off the request path. The redirector hands every counted redirect
// to Aggregator.Record, which only appends to memory under a mutex; Aggregator.Run flushes the
// held visits every FlushInterval, or sooner when BatchSize are waiting, each batch in one
// transaction on the stats pool written by a store.VisitWriter: its id into stats_batches; the
// counts summed per link and UTC hour into visit_hours (the API's visit series) and per link
// into url_stats, in one statement with sorted keys, every visit and the part of them that was
// a program's (Visit.Bot, decided by the redirector with internal/bots) apart; and the visit
// rows, each with its class, into visit_logs by a binary COPY. The SQL and the COPY encoding are the store's (DESIGN.md §2: each table has one
// owner there).
//
// Counting is exactly once. A batch keeps its id (pod identity, a per-process nonce, a
// sequence) across retries, and the id is written in the same transaction as the counts, so a
// retried flush whose first attempt committed but whose reply was lost changes nothing. A batch
// that fails because PostgreSQL or PgBouncer is unreachable is kept and retried before any newer
// one; a batch PostgreSQL refuses as data (SQLSTATE class 22 or 23) is set aside, logged and
// counted instead of blocking the rest forever. Visits are held up to MaxPending visits and
// MaxPendingBytes bytes; beyond either they are dropped, counted in
// shortlink_stats_dropped_visits_total and logged at most once a minute, never silently lost.
//
// Counts are summed at flush time, not in Record, so the hot path does no hashing and no
// allocation beyond the Visit it is given. Record only cuts an over-long User-Agent or Referer
// to its stored length (store.Visit.Bound), so that what a held visit keeps is bounded; the
// store cleans text fields (valid UTF-8, no NUL) and anonymises client IPs at flush time.
//
// This package holds the in-memory buffer, batching, retries and the flush loop. It must not
// hold SQL (the store owns every table), link lookups, HTTP handling or the read side of
// statistics (store.VisitTotals, the manager's rollup).
package stats
