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

	"github.com/jackc/pgx/v5"
)

// The change feed in commit order. A version is drawn before its transaction commits, so a
// poller that moves a cursor over versions can pass a write that commits late (a 1,000-link
// batch draws 1,000 versions while an older writer is still open). Every row written since
// migration 0007 also records its writer's transaction id (urls.txid); a transaction below
// pg_snapshot_xmin has ended, so its rows are all visible to any later read and none can still
// appear. A poller reads changes at or after its cursor, applies them once, and moves its cursor
// only up to that point, never past a writer still running.

// FeedPosition is a place in the change feed: just after the change of transaction Txid at
// Version. FeedStart(txid) is before every change of transaction txid and later ones.
type FeedPosition struct {
	Txid, Version int64
}

// FeedStart returns the position before every change written by transaction txid or a later one.
func FeedStart(txid int64) FeedPosition { return FeedPosition{Txid: txid} }

// Change is a row of the change feed and the transaction that wrote it.
type Change struct {
	Row
	Txid int64
}

// Position returns the position just after c.
func (c Change) Position() FeedPosition { return FeedPosition{Txid: c.Txid, Version: c.Version} }

// Settled returns the oldest transaction id still running (the next one to be assigned when
// none runs): every change of an older transaction is already visible, and no change older
// than it can appear later. Read it before Feed, never after: a transaction that ends between
// the two statements would otherwise count as read.
func (s *Store) Settled(ctx context.Context) (int64, error) {
	var xmin int64
	if err := s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").Scan(&xmin); err != nil {
		return 0, wrap("read settled transaction", err)
	}
	return xmin, nil
}

// RecentStart returns the oldest transaction among the changes of the last versions
// versions, and false when there is none: a poller that starts there reads again what was
// written just before it started, which its first read might otherwise race past.
func (s *Store) RecentStart(ctx context.Context, versions int64) (int64, bool, error) {
	var txid *int64
	err := s.pool.QueryRow(ctx, recentStartSQL, versions).Scan(&txid)
	if err != nil {
		return 0, false, wrap("read recent changes", err)
	}
	if txid == nil {
		return 0, false, nil
	}
	return *txid, true, nil
}

// Feed returns up to limit changes after pos, tombstones included, in (txid, version) order:
// one statement, so it works through PgBouncer in transaction pooling mode.
func (s *Store) Feed(ctx context.Context, after FeedPosition, limit int) ([]Change, error) {
	rows, err := s.pool.Query(ctx, feedSQL, after.Txid, after.Version, limit)
	if err != nil {
		return nil, wrap("read change feed", err)
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var c Change
		row, err := scanRow(r, &c.Txid)
		c.Row = row
		return c, err
	})
	if err != nil {
		return nil, wrap("read change feed", err)
	}
	return changes, nil
}
