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

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// setIfNotOlder is setIfNewer that also overwrites an entry of the same version: the operator
// repairs a key that was edited by hand without its version changing. It still never
// replaces a newer entry or tombstone.
var setIfNotOlder = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  local v = sep and string.sub(cur, 1, sep - 1) or ''
  if string.match(v, '^[1-9][0-9]*$') and (#v > #ARGV[1] or (#v == #ARGV[1] and v > ARGV[1])) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// Repair stores l unless the cache holds a newer version, and reports whether it wrote. The
// operator calls it for a key that is missing or differs from the row it holds.
func (c *Cache) Repair(ctx context.Context, l links.Link) (bool, error) {
	return c.write(ctx, setIfNotOlder, "repair", l.Domain, l.Code, l.Version, encodePayload(l), c.opts.TTL)
}
