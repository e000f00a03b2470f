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
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"
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
// one statement, so it works through PgBouncer in transaction pooling mode. The changes are
// written over dst's (from dst[:0]), so a poller reuses one page's memory for the next rather
// than growing a slice of a thousand changes again every page; nil dst is a new slice.
//
// Every redirector reads every written row here, so like Lookup it skips pgx's row scanning
// and asks for binary results, decoded by decodeChange: through PgBouncer, scanning the text
// form of a thousand rows of a dozen columns (timestamps and an array among them) was most of
// the feed's cost, and the feed was a third of the CPU of a redirector hosting the API during
// 1,000-link batches (bin/bench/create-batch.pprof). A row's strings share one allocation
// (sharedRow): nothing keeps a change once it is applied.
func (s *Store) Feed(ctx context.Context, dst []Change, after FeedPosition, limit int) ([]Change, error) {
	params := [][]byte{
		strconv.AppendInt(nil, after.Txid, 10), strconv.AppendInt(nil, after.Version, 10),
		strconv.AppendInt(nil, int64(limit), 10),
	}
	changes := dst[:0]
	err := s.queryBinary(ctx, feedSQL, params, feedParamOIDs, func(vals [][]byte) error {
		changes = append(changes, Change{})
		return decodeChange(vals, &changes[len(changes)-1])
	})
	if err != nil {
		return nil, wrap("read change feed", err)
	}
	return changes, nil
}

// feedParamOIDs are the types of feedSQL's parameters, sent as text.
var feedParamOIDs = []uint32{pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID}

// decodeChange fills c from one feedSQL row in PostgreSQL's binary format: rowColumns, then
// the txid. An empty tags array reads as nil, as in Lookup; caches encode both alike.
func decodeChange(vals [][]byte, c *Change) error {
	if want := len(linkColumns) + 8; len(vals) != want {
		return fmt.Errorf("change feed row has %d columns, want %d", len(vals), want)
	}
	d := sharedRow(vals)
	c.Domain, c.Code = d.text(), d.text()
	for _, col := range linkColumns {
		col.decode(&d, &c.Link)
	}
	c.Version, c.Deleted, c.InstallID = d.int(8), d.bool(), d.text()
	c.CreatedAt, c.UpdatedAt = d.time(), d.time()
	c.Txid = d.int(8)
	return d.err
}
