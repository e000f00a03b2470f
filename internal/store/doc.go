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
// links and the holder rule (UpsertDeclared, DeleteDeclared, ListDeclared, PurgeTombstones), the
// change feed and lookups the redirector reads through PgBouncer (Settled and Feed in commit
// order; Changes by version; Lookup),
// the read side of visit statistics (VisitTotals) and visit_logs partition upkeep
// (EnsurePartitions, DropPartitionsBefore).
//
// Every write is idempotent and happens only when something changed; every write to urls takes
// a new version from one sequence. Misses come back as links.ErrNotFound, never pgx.ErrNoRows.
// This package holds SQL and its mapping to the links domain only: no caching, no Kubernetes
// types, no HTTP, and no policy on when to call what (that belongs to the reconciler, the
// redirector and the stats flusher).
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
