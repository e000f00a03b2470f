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
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// VisitCountKeyPrefix starts the key of every limited link's count of people's visits:
// "shortlink:visits:<domain>:<code>". One key per link, so every operation on it is one
// command in one hash slot, on a single Redis, a Sentinel pair or a Cluster alike.
const VisitCountKeyPrefix = "shortlink:visits:"

// VisitCountTTL is how long a count lives after its last visit. A count only speeds up what
// url_stats also knows: once a campaign link has been quiet this long, the next visit seeds it
// again from url_stats, which has long since been flushed, and idle links leave no key behind.
const VisitCountTTL = 24 * time.Hour

// addVisits adds ARGV[1] to an existing count and renews its TTL (ARGV[2] ms); -1 when there is
// none, so that the caller seeds it from PostgreSQL rather than counting from zero.
var addVisits = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
`)

// seedVisits starts the count at ARGV[1] unless a replica seeded it first, then adds ARGV[2]
// and renews the TTL (ARGV[3] ms).
var seedVisits = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
`)

// AddVisits adds n (0 reads) to the count of people's visits of (domain, code) and returns the
// new count, or false when Redis holds no count for it (see SeedVisits).
func (c *Cache) AddVisits(ctx context.Context, domain, code string, n int64) (int64, bool, error) {
	count, err := c.runCount(ctx, addVisits, domain, code, strconv.FormatInt(n, 10), ttlMillis(VisitCountTTL))
	if err != nil || count < 0 {
		return 0, false, err
	}
	return count, true, nil
}

// SeedVisits starts the count of (domain, code) at seed (people's visits in url_stats) unless it
// exists, adds n, and returns the new count. Two replicas seeding at once both add to one count.
func (c *Cache) SeedVisits(ctx context.Context, domain, code string, seed, n int64) (int64, error) {
	return c.runCount(ctx, seedVisits, domain, code, strconv.FormatInt(seed, 10), strconv.FormatInt(n, 10), ttlMillis(VisitCountTTL))
}

func (c *Cache) runCount(ctx context.Context, script *redis.Script, domain, code string, args ...any) (int64, error) {
	k := VisitCountKeyPrefix + domain + ":" + code
	if err := checkKey(domain, code); err != nil {
		return 0, fmt.Errorf("count visits %s: %w", k, err)
	}
	n, err := script.Run(ctx, c.rdb, []string{k}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("count visits %s: %w", k, err)
	}
	return n, nil
}

func ttlMillis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
