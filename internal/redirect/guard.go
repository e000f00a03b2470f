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
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// A fill (a lookup in Redis or PostgreSQL after a local miss) races with invalidations: it may
// read the old row, then the new version is announced and the local entry dropped, then the
// fill stores what it read. The guard makes such a late fill lose: an invalidation for version
// V leaves V as the key's floor for a while, a flush bumps a generation, and a fill stores its
// result only if, checked atomically with the store, no flush happened since it started and
// no floor rules it out (see allowsLink and allowsAbsence).
type guard struct {
	gen    atomic.Uint64
	floors *otter.Cache[key, int64]
}

// snapshot is what a fill saw of its key's invalidation state when it started.
type snapshot struct {
	gen   uint64
	floor int64
}

func newGuard(size int, ttl time.Duration, clock otter.Clock) *guard {
	return &guard{floors: otter.Must(&otter.Options[key, int64]{
		MaximumSize:      size,
		ExpiryCalculator: otter.ExpiryWriting[key, int64](ttl),
		Clock:            clock,
	})}
}

func (g *guard) snapshot(k key) snapshot {
	return snapshot{gen: g.gen.Load(), floor: g.floor(k)}
}

func (g *guard) floor(k key) int64 {
	v, _ := g.floors.GetIfPresent(k)
	return v
}

// raise records version as k's floor unless a higher one is there.
func (g *guard) raise(k key, version int64) {
	g.floors.Compute(k, func(old int64, found bool) (int64, otter.ComputeOp) {
		if found && old >= version {
			return old, otter.CancelOp
		}
		return version, otter.WriteOp
	})
}

// flush makes every fill in flight lose.
func (g *guard) flush() { g.gen.Add(1) }

// allowsLink reports whether a fill that started at s may store a link at version: nothing
// was flushed since, and no invalidation announced a newer version.
func (g *guard) allowsLink(k key, s snapshot, version int64) bool {
	return g.gen.Load() == s.gen && version >= g.floor(k)
}

// allowsAbsence reports whether a fill that started at s and found no link may remember that:
// nothing was flushed since, and no invalidation arrived for k meanwhile (the link may have
// been created after the fill read).
func (g *guard) allowsAbsence(k key, s snapshot) bool {
	return g.gen.Load() == s.gen && g.floor(k) == s.floor
}

func (g *guard) close() { g.floors.StopAllGoroutines() }
