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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// KeyPrefix starts the key of every link entry: "shortlink:link:<domain>:<code>", with an empty
// domain for the default domain. Neither part can contain ':', so keys are unambiguous.
const KeyPrefix = "shortlink:link:"

// Entry defaults.
const (
	DefaultTTL          = 24 * time.Hour
	DefaultTombstoneTTL = 10 * time.Minute
)

// Options tune a Cache.
type Options struct {
	// TTL is the hard lifetime of every link entry, so an entry whose invalidation was lost
	// cannot outlive it; default DefaultTTL.
	TTL time.Duration
	// TombstoneTTL is the lifetime of the tombstone Delete leaves. It must outlast any fill that
	// read the row before the delete; default DefaultTombstoneTTL.
	TombstoneTTL time.Duration
}

// Entry is what the cache holds for a (domain, code): the link at Link.Version, or, when
// Deleted, a tombstone saying the link was deleted at that version (only Domain, Code and
// Version are set then).
type Entry struct {
	Link    links.Link
	Deleted bool
}

// Cache is the versioned link cache in Redis. It is safe for concurrent use.
type Cache struct {
	rdb  redis.UniversalClient
	opts Options
}

// New returns a Cache on rdb. It does not connect.
func New(rdb redis.UniversalClient, opts Options) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TombstoneTTL <= 0 {
		opts.TombstoneTTL = DefaultTombstoneTTL
	}
	return &Cache{rdb: rdb, opts: opts}
}

// setIfNewer writes every entry Set and Delete store. It stores ARGV[1] .. "|" .. ARGV[2] with a
// TTL of ARGV[3] milliseconds unless the key holds a version at least ARGV[1]. Versions are
// compared as digit strings (longer is larger, then bytewise), which is exact for any int64;
// a value without a version prefix is overwritten. Returns 1 when it wrote, else 0.
var setIfNewer = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  local v = sep and string.sub(cur, 1, sep - 1) or ''
  if string.match(v, '^[1-9][0-9]*$') and (#v > #ARGV[1] or (#v == #ARGV[1] and v >= ARGV[1])) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// Set stores l unless the cache holds l's version or a newer one (tombstones included), and
// reports whether it wrote. l.Version must be positive.
func (c *Cache) Set(ctx context.Context, l links.Link) (bool, error) {
	return c.write(ctx, setIfNewer, "set", l.Domain, l.Code, l.Version, encodePayload(l), c.opts.TTL)
}

// Delete replaces the entry for (domain, code) with a tombstone at version, under the same rule
// as Set, and reports whether it wrote. The tombstone lives for TombstoneTTL, so a fill that read
// the row before the delete cannot bring the link back.
func (c *Cache) Delete(ctx context.Context, domain, code string, version int64) (bool, error) {
	return c.write(ctx, setIfNewer, "delete", domain, code, version, "", c.opts.TombstoneTTL)
}

func (c *Cache) write(ctx context.Context, script *redis.Script, op, domain, code string, version int64, body string, ttl time.Duration) (bool, error) {
	sc, err := newScriptCall(op, domain, code, version, body, ttl)
	if err != nil {
		return false, err
	}
	n, err := script.Run(ctx, c.rdb, []string{sc.key}, sc.args...).Int()
	if err != nil {
		return false, fmt.Errorf("%s cache entry %s: %w", op, sc.key, err)
	}
	return n == 1, nil
}

// scriptCall is one run of a compare-version script: the entry's key and the script's ARGV
// (version, body, TTL in milliseconds).
type scriptCall struct {
	key  string
	args []any
}

// newScriptCall checks what every write checks (checkWrite).
func newScriptCall(op, domain, code string, version int64, body string, ttl time.Duration) (scriptCall, error) {
	if err := checkWrite(op, domain, code, version); err != nil {
		return scriptCall{}, err
	}
	ms := strconv.FormatInt(ttl.Milliseconds(), 10)
	return scriptCall{key: key(domain, code), args: []any{strconv.FormatInt(version, 10), body, ms}}, nil
}

// checkWrite refuses a write of an entry Redis must not hold: a key that is ambiguous, or a
// version that is not positive.
func checkWrite(op, domain, code string, version int64) error {
	if err := checkKey(domain, code); err != nil {
		return fmt.Errorf("%s cache entry %s: %w", op, key(domain, code), err)
	}
	if version < 1 {
		return fmt.Errorf("%s cache entry %s: version %d is not positive", op, key(domain, code), version)
	}
	return nil
}

// Get returns the entry for (domain, code), or an error wrapping links.ErrNotFound when Redis
// has none. A tombstone is an entry (Deleted), not an error: it answers without PostgreSQL.
func (c *Cache) Get(ctx context.Context, domain, code string) (Entry, error) {
	if checkKey(domain, code) != nil {
		return Entry{}, errNotCached
	}
	k := key(domain, code)
	value, err := c.rdb.Get(ctx, k).Result()
	if errors.Is(err, redis.Nil) {
		return Entry{}, errNotCached
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get cache entry %s: %w", k, err)
	}
	e, err := decodeEntry(domain, code, value)
	if err != nil {
		return Entry{}, fmt.Errorf("get cache entry %s: %w", k, err)
	}
	return e, nil
}

// errNotCached is Get's miss. Misses are frequent (every code a redirector's in-process cache
// does not hold and no replica has filled yet), so it is built once rather than per call.
var errNotCached = fmt.Errorf("get cache entry: %w", links.ErrNotFound)

func key(domain, code string) string { return KeyPrefix + domain + ":" + code }

// checkKey refuses what would make a key or an invalidation ambiguous: a code that is not a
// valid code, or a domain that is not in normalized form (lower-case a-z, 0-9, '-' and '.').
func checkKey(domain, code string) error {
	if !links.ValidCode(code) {
		return fmt.Errorf("code %q: %w", code, links.ErrInvalidCode)
	}
	if !validDomain(domain) {
		return fmt.Errorf("domain %q: %w", domain, links.ErrInvalidDomain)
	}
	return nil
}

func validDomain(d string) bool {
	if len(d) > links.MaxDomainLength {
		return false
	}
	for i := 0; i < len(d); i++ {
		if !isDomainByte(d[i]) {
			return false
		}
	}
	return true
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}
