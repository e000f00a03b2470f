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

package redirect

import (
	"time"

	"github.com/maypok86/otter/v2"
)

// negativeCache remembers codes that PostgreSQL (or a Redis tombstone) said do not exist, for a
// short TTL, so a flood of requests for unknown codes costs PostgreSQL at most one lookup per
// code per TTL. It is a cache of its own, bounded apart from localCache: a flood of random
// codes fills this one and cannot evict a single hot link. A nil *otter.Cache means it is off.
type negativeCache struct {
	c     *otter.Cache[key, struct{}]
	guard *guard
}

func newNegativeCache(size int, ttl time.Duration, g *guard, clock otter.Clock) *negativeCache {
	nc := &negativeCache{guard: g}
	if size > 0 {
		nc.c = otter.Must(&otter.Options[key, struct{}]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[key, struct{}](ttl),
			Clock:            clock,
		})
	}
	return nc
}

func (nc *negativeCache) has(k key) bool {
	if nc.c == nil {
		return false
	}
	_, ok := nc.c.GetIfPresent(k)
	return ok
}

// store remembers that a fill started at s found no link for k, unless an invalidation for k
// arrived meanwhile: then the link may have been created after the fill read.
func (nc *negativeCache) store(k key, s snapshot) {
	if nc.c == nil {
		return
	}
	nc.c.Compute(k, func(old struct{}, found bool) (struct{}, otter.ComputeOp) {
		if !nc.guard.allowsAbsence(k, s) {
			return old, otter.CancelOp
		}
		return struct{}{}, otter.WriteOp
	})
}

func (nc *negativeCache) drop(k key) {
	if nc.c != nil {
		nc.c.Invalidate(k)
	}
}

func (nc *negativeCache) flush() {
	if nc.c != nil {
		nc.c.InvalidateAll()
	}
}

func (nc *negativeCache) close() {
	if nc.c != nil {
		nc.c.StopAllGoroutines()
	}
}
