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

package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// HealCursorKey holds how far Redis agrees with PostgreSQL's change feed: every change written
// by a transaction below it (store.Change.Txid) has been written to Redis. It lives in Redis,
// beside the entries it speaks for, so it is lost exactly when they are (a restart without
// persistence, a flush) and is restored with them from a snapshot. It has no TTL: it is one
// small key, and volatile-* eviction policies never evict a key without one.
const HealCursorKey = "shortlink:feed:healed"

// raiseCursor sets KEYS[1] to ARGV[1] unless it holds a larger number, compared as digit
// strings (longer is larger, then bytewise) so that any int64 is exact. Returns 1 when it wrote.
var raiseCursor = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^[0-9]+$') and (#cur > #ARGV[1] or (#cur == #ARGV[1] and cur >= ARGV[1])) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`)

// HealCursor returns the heal cursor, and false when Redis holds none (a new or emptied Redis,
// which holds nothing stale either).
func (c *Cache) HealCursor(ctx context.Context) (int64, bool, error) {
	s, err := c.rdb.Get(ctx, HealCursorKey).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("read heal cursor: %w", err)
	}
	txid, err := strconv.ParseInt(s, 10, 64)
	if err != nil || txid < 0 {
		return 0, false, nil // not ours: the next advance overwrites it
	}
	return txid, true, nil
}

// AdvanceHealCursor raises the heal cursor to txid; a cursor already higher stays, so replicas
// that read the feed at different moments only ever move it forward.
func (c *Cache) AdvanceHealCursor(ctx context.Context, txid int64) error {
	if txid < 0 {
		return fmt.Errorf("advance heal cursor: transaction id %d is negative", txid)
	}
	if err := raiseCursor.Run(ctx, c.rdb, []string{HealCursorKey}, strconv.FormatInt(txid, 10)).Err(); err != nil {
		return fmt.Errorf("advance heal cursor: %w", err)
	}
	return nil
}
