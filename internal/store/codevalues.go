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
	"github.com/jackc/pgx/v5/pgxpool"
)

// codeBlockSize is how many api_code_seq values a Store draws in one statement. A process that
// stops leaves at most this many unused: gaps in the sequence, which it has anyway (a value is
// skipped when its code is held, and a create that fails after nextval loses its value).
const codeBlockSize = 32

// drawCodeValuesSQL draws a block of api_code_seq values, lowest first, so that codes are
// handed out in the order the sequence gave them.
const drawCodeValuesSQL = `SELECT v FROM (SELECT nextval('api_code_seq') AS v FROM generate_series(1, $1)) d ORDER BY v`

// codeValues hands out api_code_seq values drawn in blocks, so a generated create costs one
// round trip (its INSERT) rather than two, save once in codeBlockSize creates.
type codeValues struct {
	// lock is held while a value is taken or a block drawn. It is a channel so that a caller
	// waiting behind a slow draw gives up when its context ends.
	lock chan struct{}
	free []int64
}

func newCodeValues() *codeValues { return &codeValues{lock: make(chan struct{}, 1)} }

// next returns an api_code_seq value no other call of this Store has had, drawing a block
// through pool when none is left.
func (c *codeValues) next(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-c.lock }()
	if len(c.free) == 0 {
		rows, err := pool.Query(ctx, drawCodeValuesSQL, codeBlockSize)
		if err != nil {
			return 0, err
		}
		values, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		c.free = values
	}
	n := c.free[0]
	c.free = c.free[1:]
	return n, nil
}
