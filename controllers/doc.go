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

// Package controllers holds the ShortLinkReconciler, which syncs declared ShortLinks into
// PostgreSQL and Redis and reports status, and the leader-only jobs beside it (visits rollup,
// partitions, tombstone purge, garbage collection). PostgreSQL and Redis sit behind the narrow
// interfaces below; the SQL and Redis details live in internal/store and internal/cache.
package controllers

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// LinkStore is the serving store as the reconciler uses it. Every write is idempotent.
type LinkStore interface {
	Get(ctx context.Context, domain, code string) (store.Row, error)
	UpsertDeclared(ctx context.Context, d store.Declared) (store.Result, error)
	DeleteDeclared(ctx context.Context, domain, code, ownerUID string) (int64, bool, error)
	ReleaseOtherClaims(ctx context.Context, ownerUID string, keep store.Key) ([]store.Row, error)
}

// LinkCache is the shared Redis cache as the reconciler uses it.
type LinkCache interface {
	Get(ctx context.Context, domain, code string) (cache.Entry, error)
	Set(ctx context.Context, l links.Link) (bool, error)
	Repair(ctx context.Context, l links.Link) (bool, error)
	Delete(ctx context.Context, domain, code string, version int64) (bool, error)
	Publish(ctx context.Context, inv cache.Invalidation) error
}

// Installation is what the reconciler and the visits rollup know of this installation.
type Installation struct {
	// Site holds the served domains and the short URLs: where a ShortLink's row is stored
	// (links on the default domain under '') and what its status.url reads.
	Site links.Site
	// InstallID stamps the rows this installation writes, so garbage collection never
	// touches another installation's rows in a shared database.
	InstallID string
}

// PolicySource hands out the current URL policy; it is swapped when the blocklist changes.
type PolicySource = atomic.Pointer[links.Policy]

// Intervals at which a reconcile is retried after an external system failed. PostgreSQL backs
// off from dbRetryMin to dbRetryMax the longer it stays down; Redis is retried steadily.
const (
	dbRetryMin = time.Second
	dbRetryMax = time.Minute
	cacheRetry = 10 * time.Second
	// conflictRecheck is a safety net: a claimant normally learns that the holder went from
	// the rival watch at once; if that event were ever lost, it still takes over this soon.
	conflictRecheck = 5 * time.Minute
	finalizerName   = "links.shortlink.dev/finalizer"
)
