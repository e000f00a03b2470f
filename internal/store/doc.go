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

// Package store holds Shortlink's PostgreSQL storage, through pgx v5: the embedded schema
// migrations (Migrate), the pool and its error classification (Open, IsUnavailable), declared
// links and the holder rule (UpsertDeclared, Declared.Unchanged, DeleteDeclared, ListDeclared,
// ReleaseOtherClaims, PurgeTombstones), links made through the create API (CreateAPILink,
// CreateGeneratedAPILink, CreateAPILinks, GetWithVisits, ListLinks, PatchAPILink,
// DeleteAPILink, VisitSeries, VisitBreakdowns), the change feed and lookups the redirector
// reads through PgBouncer (Settled and Feed in commit order; Changes by version; Lookup;
// WALPosition, to measure how far a read replica lags), the stats flush (VisitWriter: counts
// and visit logs), the read side of visit statistics (VisitTotals) and
// upkeep of the visit tables (EnsurePartitions, DropPartitionsBefore, PruneStatsBatches).
//
// Every write is idempotent and happens only when something changed; every write to urls takes
// a new version from one sequence. Misses come back as links.ErrNotFound, never pgx.ErrNoRows.
// This package holds SQL and its mapping to the links domain only: no caching, no Kubernetes
// types, no HTTP, and no policy on when to call what (that belongs to the reconciler, the
// redirector and the stats flusher).
//
// # Tables
//
// Each table has one file that holds all SQL touching it (TestEveryTableSQLIsInItsFile checks
// the string literals of this package against this list). A statement that spans tables is put
// together from each table's part, taken from that table's file:
//
//   - urls: urls_sql.go (its link columns are defined once, in urls_columns.go)
//   - api_batch: urls_sql.go (the API batch's temporary staging table for urls)
//   - url_stats: url_stats.go
//   - visit_hours: visit_hours.go
//   - visit_breakdowns: visit_breakdowns.go (visits per link-day by referrer, device, country)
//   - visit_logs: visit_logs.go (its partitions, and the COPY of a flush's visits)
//   - stats_batches: stats_batches.go
//   - schema_migrations: migrate.go
//   - domains: domains.go (hosts declared by ShortLinkDomain objects, for the redirectors)
//
// The Go that runs the urls statements is in files named after what it does: declared.go,
// claims.go and tombstones.go (declared links), apilinks.go, apibatch.go and apiread.go (the
// create API), feed.go and changes.go (the change feeds), lookup.go (the redirector's tier).
// visits.go writes a flush's batch across stats_batches, url_stats, visit_hours, visit_breakdowns and visit_logs
// in one transaction.
//
// # Migrations
//
// The schema is managed by a small migrator of our own rather than goose or golang-migrate: it
// needs no extra dependency; it gives exactly the semantics we need — every start-up runs all
// missing files inside one transaction that first takes pg_advisory_xact_lock, so managers
// starting together serialise and a failure leaves the previous schema whole — which those tools
// offer only partly or behind options; and it is a handful of files. Migrations are
// expand-then-contract: a new version never breaks pods still running the previous one (see
// migrations/README.md).
package store
