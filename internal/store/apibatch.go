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
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// CreateAPILinks stores ls, normalized links made through the API, in one transaction, as
// CreateAPILink and CreateGeneratedAPILink would one by one: a link with an empty Code gets a
// code made from api_code_seq by encode, skipping values whose code is held. It returns, in
// the order of ls, the row each link was stored as, or a zero Row (empty Code) for a link whose
// code is held — by a live row, or by an earlier link of the same batch. An error means nothing
// was written.
func (s *Store) CreateAPILinks(ctx context.Context, ls []links.Link, encode func(uint64) string) ([]Row, error) {
	var out []Row
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A batch is copied into a temporary table, dropped at commit, then inserted from there
		// in one statement. Both work through PgBouncer in transaction pooling mode: the table
		// lives as long as the transaction, which keeps its server connection throughout.
		if _, err := tx.Exec(ctx, createBatchTableSQL); err != nil {
			return err
		}
		b := newAPIBatch(ls)
		var err error
		out, err = b.store(ctx, tx, encode)
		return err
	})
	if err != nil {
		return nil, wrap("create links", err)
	}
	return out, nil
}

// apiBatch is one CreateAPILinks call: its links, the rows stored so far, and every key the batch
// has used, so a generated code never lands on another link of the same batch.
type apiBatch struct {
	ls   []links.Link
	out  []Row
	used map[Key]bool
	// pending are the indexes of links to store in the next round.
	pending []int
}

// newAPIBatch keeps the first link of each custom key; later ones are held by it.
func newAPIBatch(ls []links.Link) *apiBatch {
	b := &apiBatch{ls: slices.Clone(ls), out: make([]Row, len(ls)), used: make(map[Key]bool, len(ls))}
	for i, l := range ls {
		k := Key{Domain: l.Domain, Code: l.Code}
		switch {
		case l.Code == "":
			b.pending = append(b.pending, i)
		case !b.used[k]:
			b.used[k] = true
			b.pending = append(b.pending, i)
		}
	}
	return b
}

// store inserts the pending links in rounds: a custom code held is final, a generated one is
// retried under the next free value, up to maxCodeAttempts rounds.
func (b *apiBatch) store(ctx context.Context, tx pgx.Tx, encode func(uint64) string) ([]Row, error) {
	generated := make(map[int]bool)
	for _, i := range b.pending {
		if b.ls[i].Code == "" {
			generated[i] = true
		}
	}
	for round := 0; len(b.pending) > 0 && round < maxCodeAttempts; round++ {
		if err := b.assignCodes(ctx, tx, encode, generated); err != nil {
			return nil, err
		}
		stored, err := b.insert(ctx, tx, round > 0)
		if err != nil {
			return nil, err
		}
		var retry []int
		for _, i := range b.pending {
			c, ok := stored[Key{Domain: b.ls[i].Domain, Code: b.ls[i].Code}]
			switch {
			case ok:
				b.out[i] = createdRow(b.ls[i], c.version, c.since, c.until, c.createdAt)
			case generated[i]:
				retry = append(retry, i)
			}
		}
		b.pending = retry
	}
	return b.out, nil
}

// assignCodes gives every pending generated link the code of a fresh sequence value that no
// other link of the batch uses.
func (b *apiBatch) assignCodes(ctx context.Context, tx pgx.Tx, encode func(uint64) string, generated map[int]bool) error {
	var want []int
	for _, i := range b.pending {
		if generated[i] {
			want = append(want, i)
		}
	}
	for len(want) > 0 {
		rows, err := tx.Query(ctx, drawCodeValuesSQL, len(want))
		if err != nil {
			return err
		}
		values, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		var again []int
		for j, i := range want {
			k := Key{Domain: b.ls[i].Domain, Code: encode(uint64(values[j]))} //nolint:gosec // the sequence starts at 0 and only grows
			if b.used[k] {
				again = append(again, i)
				continue
			}
			b.used[k] = true
			b.ls[i].Code = k.Code
		}
		want = again
	}
	return nil
}

// created is what insertAPIBatchSQL reads back for one stored link (createdColumns).
type created struct {
	version                 int64
	since, until, createdAt time.Time
}

// insert copies the pending links into api_batch (emptied first on a later round) and stores
// them, returning what was read back for each stored one by key.
func (b *apiBatch) insert(ctx context.Context, tx pgx.Tx, empty bool) (map[Key]created, error) {
	if err := b.copy(ctx, tx, empty); err != nil {
		return nil, err
	}
	// Sent together: one round trip for both.
	var q pgx.Batch
	q.Queue(analyzeBatchSQL)
	q.Queue(insertAPIBatchSQL)
	br := tx.SendBatch(ctx, &q)
	defer func() { _ = br.Close() }()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	byKey := make(map[Key]created, len(b.pending))
	var k Key
	var c created
	var since, until *time.Time // pgx may reuse what these point at: copied out for each row
	_, err = pgx.ForEachRow(rows, []any{&k.Domain, &k.Code, &c.version, &since, &until, &c.createdAt}, func() error {
		c.since, c.until = zeroIfNil(since), zeroIfNil(until)
		byKey[k] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return byKey, br.Close()
}

// copy fills api_batch with the pending links, emptying it first when asked.
func (b *apiBatch) copy(ctx context.Context, tx pgx.Tx, empty bool) error {
	if empty {
		if _, err := tx.Exec(ctx, emptyBatchTableSQL); err != nil {
			return err
		}
	}
	src := pgx.CopyFromSlice(len(b.pending), func(j int) ([]any, error) {
		l := asAPILink(b.ls[b.pending[j]])
		row := make([]any, 0, len(batchColumns))
		return linkValues(append(row, l.Domain, l.Code), &l), nil
	})
	_, err := tx.CopyFrom(ctx, batchTable, batchColumns, src)
	return err
}
