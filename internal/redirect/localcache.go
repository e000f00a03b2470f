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

	"github.com/shortlink-dev/shortlink/internal/links"
)

// key identifies a link in the in-process caches. A struct of the two strings a request
// already holds, rather than one joined string, so a lookup allocates nothing.
type key struct {
	domain, code string
}

// entry is what the in-process cache holds for a link: only what answering needs, so that
// tags and ownership do not take memory in every replica. It is never modified once stored.
type entry struct {
	link links.Link
}

// localCache is the in-process tier: bounded, with a hard TTL, holding versioned entries. An
// entry is never replaced by an older version, and a fill that an invalidation overtook is
// refused (see guard). A nil *otter.Cache means the tier is off.
type localCache struct {
	c     *otter.Cache[key, *entry]
	guard *guard
}

func newLocalCache(size int, ttl time.Duration, g *guard, clock otter.Clock) *localCache {
	lc := &localCache{guard: g}
	if size > 0 {
		lc.c = otter.Must(&otter.Options[key, *entry]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[key, *entry](ttl),
			Clock:            clock,
		})
	}
	return lc
}

func (lc *localCache) get(k key) (*entry, bool) {
	if lc.c == nil {
		return nil, false
	}
	return lc.c.GetIfPresent(k)
}

// store keeps l, read by a fill that started at s, unless the cache holds l's version or a
// newer one or the guard refuses it. The check runs under the key's lock, so an invalidation
// either sees the stored entry and drops it, or has already left the floor that refuses it.
func (lc *localCache) store(l links.Link, s snapshot) {
	if lc.c == nil {
		return
	}
	k := key{domain: l.Domain, code: l.Code}
	e := &entry{link: trimmed(l)}
	lc.c.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if (found && old.link.Version >= l.Version) || !lc.guard.allowsLink(k, s, l.Version) {
			return old, otter.CancelOp
		}
		return e, otter.WriteOp
	})
}

// drop removes k's entry if it is older than version.
func (lc *localCache) drop(k key, version int64) {
	if lc.c == nil {
		return
	}
	lc.c.ComputeIfPresent(k, func(old *entry) (*entry, otter.ComputeOp) {
		if old.link.Version < version {
			return nil, otter.InvalidateOp
		}
		return old, otter.CancelOp
	})
}

func (lc *localCache) flush() {
	if lc.c != nil {
		lc.c.InvalidateAll()
	}
}

func (lc *localCache) close() {
	if lc.c != nil {
		lc.c.StopAllGoroutines()
	}
}

// trimmed returns l without the fields no answer needs.
func trimmed(l links.Link) links.Link {
	l.Tags, l.Source, l.Owner, l.OwnerUID = nil, "", "", ""
	return l
}
