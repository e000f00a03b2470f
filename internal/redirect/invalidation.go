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
	"context"
	"sync"

	"github.com/shortlink-dev/shortlink/internal/cache"
)

// Subscription is the pub/sub fast path of invalidation: *cache.Subscriber.
type Subscription interface {
	// Invalidations delivers each announced change.
	Invalidations() <-chan cache.Invalidation
	// Resync fires when changes may have been missed (every (re)subscription included).
	Resync() <-chan struct{}
}

// Run keeps the caches in step with changes until ctx ends: it applies sub's invalidations
// (nil sub: the change feed alone) and polls the change feed, which also catches what pub/sub
// lost, links made through the API and unknown codes that became links.
func (r *Resolver) Run(ctx context.Context, sub Subscription) {
	var wg sync.WaitGroup
	if sub != nil {
		wg.Go(func() { r.follow(ctx, sub) })
	}
	if r.replica != nil {
		wg.Go(func() { r.watchReplica(ctx) })
	}
	r.poll(ctx)
	wg.Wait()
}

// follow applies sub's messages until ctx ends or sub closes.
func (r *Resolver) follow(ctx context.Context, sub Subscription) {
	invs, resync := sub.Invalidations(), sub.Resync()
	for invs != nil || resync != nil {
		select {
		case <-ctx.Done():
			return
		case inv, ok := <-invs:
			if !ok {
				invs = nil
				continue
			}
			r.invalidate(key{domain: inv.Domain, code: inv.Code}, inv.Version, sourcePubSub)
		case _, ok := <-resync:
			if !ok {
				resync = nil
				continue
			}
			r.flush()
			r.log.Info("Subscribed to invalidations; flushed the in-process cache")
		}
	}
}

// invalidate says that k changed at version: every copy older than version is dropped, a fill
// in flight that read an older one cannot store it (the floor), and an unknown-code entry is
// dropped, as the change may be the link's creation. A new request starts a lookup of its own
// instead of joining one that began before the change.
func (r *Resolver) invalidate(k key, version int64, src source) {
	r.guard.raise(k, version)
	r.local.drop(k, version)
	r.negative.drop(k)
	r.flights.forget(k)
	r.metrics.invalidation(src)
}

// flush drops everything cached in memory, after changes may have been missed.
func (r *Resolver) flush() {
	r.guard.flush()
	r.local.flush()
	r.negative.flush()
}
