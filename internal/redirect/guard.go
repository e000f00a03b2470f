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
	"hash/maphash"
	"sync"
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
//
// The floors are two plain maps a shard, the current one and the one before, swapped every
// ttl: a floor written into the current map lives at least ttl and at most twice that. Every
// written link raises a floor (the change feed announces each), so this is on the path of every
// create: a bounded cache with a frequency-based eviction policy, as before, spent a quarter of
// the CPU of a redirector hosting the API during 1,000-link batches on its inserts and
// evictions (bin/bench/create-batch.pprof).
//
// A floor is kept under its key's 64-bit hash rather than the key: the maps then hold no
// strings, so they keep no code alive, the garbage collector does not scan them, and a lookup
// compares one word, where the two string-keyed maps were 8 % of that redirector's CPU
// (mostly cache misses). Two keys with one hash (about one chance in 10^9 among 100,000
// floors) share the higher floor, which can only make a fill go unstored or read on: a floor
// too high never serves a stale link.
type guard struct {
	gen    atomic.Uint64
	ttl    int64
	half   int // a shard's current map is swapped out early when it holds this many
	clock  otter.Clock
	seed   maphash.Seed
	shards [guardShards]floorShard
}

const guardShards = 16

type floorShard struct {
	mu        sync.Mutex
	cur, prev map[uint64]int64 // floors by hashKey
	started   int64            // the clock's time when cur became current
	_         [64]byte
}

// snapshot is what a fill saw of its key's invalidation state when it started.
type snapshot struct {
	gen   uint64
	floor int64
}

// newGuard keeps about size floors at most, each for at least ttl unless more than size/2
// keys of its shard's share were raised in less time.
func newGuard(size int, ttl time.Duration, clock otter.Clock) *guard {
	g := &guard{ttl: int64(ttl), half: max(size/2/guardShards, 1), clock: clock, seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].cur, g.shards[i].prev = map[uint64]int64{}, map[uint64]int64{}
	}
	return g
}

func (g *guard) snapshot(k key) snapshot {
	return snapshot{gen: g.gen.Load(), floor: g.floor(k)}
}

// shard returns k's hash and its shard, with its maps swapped as far as the time asks. The
// caller unlocks it.
func (g *guard) shard(k key) (uint64, *floorShard) {
	h := hashKey(g.seed, k.domain, k.code)
	sh := &g.shards[h%guardShards]
	sh.mu.Lock()
	if now := g.clock.NowNano(); now-sh.started >= g.ttl {
		sh.swap(now-sh.started >= 2*g.ttl)
		sh.started = now
	}
	return h, sh
}

// swap makes the current map the previous one, or drops both when the previous would be
// older than twice the ttl.
func (sh *floorShard) swap(both bool) {
	clear(sh.prev)
	if both {
		clear(sh.cur)
		return
	}
	sh.cur, sh.prev = sh.prev, sh.cur
}

func (g *guard) floor(k key) int64 {
	h, sh := g.shard(k)
	defer sh.mu.Unlock()
	return sh.floorLocked(h)
}

func (sh *floorShard) floorLocked(h uint64) int64 {
	if v, ok := sh.cur[h]; ok {
		return v
	}
	return sh.prev[h]
}

// raise records version as k's floor unless a higher one is there.
func (g *guard) raise(k key, version int64) {
	h, sh := g.shard(k)
	defer sh.mu.Unlock()
	if sh.floorLocked(h) >= version {
		return
	}
	if len(sh.cur) >= g.half {
		sh.swap(false)
		sh.started = g.clock.NowNano()
	}
	sh.cur[h] = version
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

// hashKey is a 64-bit hash of a key's two strings.
func hashKey(seed maphash.Seed, domain, code string) uint64 {
	return maphash.String(seed, code) ^ maphash.String(seed, domain)*0x9e3779b97f4a7c15
}
