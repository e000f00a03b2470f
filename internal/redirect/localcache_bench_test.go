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
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/maypok86/otter/v2"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// These benchmarks chose the in-process cache library (see the package doc). Each candidate is
// bounded and has a hard TTL, as the redirector needs; the workloads are get-heavy and parallel,
// like redirect traffic:
//
//   - hot: every key present (1,000 links), uniform random reads;
//   - zipf: 100,000 keys with Zipf popularity into a cache of 10,000, a miss followed by a set.
//
// Run: go test -run '^$' -bench LocalCache -benchmem -cpu 1,2 ./internal/redirect/

type benchCache interface {
	get(k key) bool
	set(k key)
}

// benchValue stands for what a library candidate holds: a pointer to an entry.
type benchValue struct{ _ int64 }

var benchCandidates = []struct {
	name string
	make func(size int, ttl time.Duration) benchCache
}{
	{"otter", func(size int, ttl time.Duration) benchCache { return newOtterBench(size, ttl) }},
	{"lru-expirable", func(size int, ttl time.Duration) benchCache {
		return lruBench{expirable.NewLRU[key, *benchValue](size, nil, ttl)}
	}},
	{"sharded-map", func(size int, ttl time.Duration) benchCache { return newShardedMap(size, ttl) }},
	// chunked is the cache the redirector uses now (localcache.go), bounded at 200 bytes a
	// link (its links with 60-byte targets take about 150).
	{"chunked", func(size int, ttl time.Duration) benchCache { return newChunkedBench(size, ttl) }},
}

func BenchmarkLocalCacheHot(b *testing.B) {
	keys := benchKeys(1000)
	for _, c := range benchCandidates {
		b.Run(c.name, func(b *testing.B) {
			cache := c.make(10_000, time.Hour)
			for _, k := range keys {
				cache.set(k)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(rand.Uint64(), 1)) //nolint:gosec // a workload, not secrets
				for pb.Next() {
					if !cache.get(keys[rng.IntN(len(keys))]) {
						b.Error("hot key missing")
						return
					}
				}
			})
		})
	}
}

func BenchmarkLocalCacheZipf(b *testing.B) {
	keys := benchKeys(100_000)
	for _, c := range benchCandidates {
		b.Run(c.name, func(b *testing.B) {
			cache := c.make(10_000, time.Hour)
			var misses, gets int64
			var mu sync.Mutex
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(rand.Uint64(), 2))         //nolint:gosec // a workload, not secrets
				zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(keys)-1)) //nolint:gosec // len is positive
				var m, g int64
				for pb.Next() {
					k := keys[zipf.Uint64()]
					g++
					if !cache.get(k) {
						m++
						cache.set(k)
					}
				}
				mu.Lock()
				misses, gets = misses+m, gets+g
				mu.Unlock()
			})
			b.ReportMetric(float64(misses)/float64(max(gets, 1))*100, "miss%")
		})
	}
}

func benchKeys(n int) []key {
	keys := make([]key, n)
	for i := range keys {
		keys[i] = key{domain: "go.example.com", code: fmt.Sprintf("c%06d", i)}
	}
	return keys
}

type otterBench struct {
	c *otter.Cache[key, *benchValue]
}

func newOtterBench(size int, ttl time.Duration) otterBench {
	return otterBench{otter.Must(&otter.Options[key, *benchValue]{
		MaximumSize: size, ExpiryCalculator: otter.ExpiryWriting[key, *benchValue](ttl),
	})}
}

func (o otterBench) get(k key) bool {
	_, ok := o.c.GetIfPresent(k)
	return ok
}
func (o otterBench) set(k key) { o.c.Set(k, &benchValue{}) }

type lruBench struct {
	c *expirable.LRU[key, *benchValue]
}

func (l lruBench) get(k key) bool {
	_, ok := l.c.Get(k)
	return ok
}
func (l lruBench) set(k key) { l.c.Add(k, &benchValue{}) }

type chunkedBench struct{ c *localCache }

func newChunkedBench(size int, ttl time.Duration) chunkedBench {
	clock := otter.NewCoarseClock(clockResolution)
	return chunkedBench{newLocalCache(int64(size)*200, ttl, newGuard(1000, time.Minute, clock), clock)}
}

func (c chunkedBench) get(k key) bool {
	var l links.Link
	return c.c.link(k, &l)
}

func (c chunkedBench) set(k key) {
	c.c.store(k, links.Link{Target: benchTarget(0), RedirectType: http.StatusFound, Version: 1}, snapshot{})
}

// shardedMap is the do-it-yourself candidate: maps behind read-write locks, an expiry time per
// entry, and eviction of an arbitrary entry when a shard is full (no recency or frequency).
type shardedMap struct {
	seed   maphash.Seed
	ttl    time.Duration
	limit  int
	shards [64]struct {
		sync.RWMutex
		m map[key]shardedItem
		_ [40]byte // keep shards on separate cache lines
	}
}

type shardedItem struct {
	e       *benchValue
	expires int64
}

func newShardedMap(size int, ttl time.Duration) *shardedMap {
	s := &shardedMap{seed: maphash.MakeSeed(), ttl: ttl, limit: max(size/64, 1)}
	for i := range s.shards {
		s.shards[i].m = make(map[key]shardedItem, s.limit)
	}
	return s
}

func (s *shardedMap) shard(k key) int {
	var h maphash.Hash
	h.SetSeed(s.seed)
	_, _ = h.WriteString(k.domain)
	_, _ = h.WriteString(k.code)
	return int(h.Sum64() % 64)
}

func (s *shardedMap) get(k key) bool {
	sh := &s.shards[s.shard(k)]
	sh.RLock()
	it, ok := sh.m[k]
	sh.RUnlock()
	return ok && it.e != nil && time.Now().UnixNano() <= it.expires
}

func (s *shardedMap) set(k key) {
	sh := &s.shards[s.shard(k)]
	sh.Lock()
	defer sh.Unlock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= s.limit {
		for victim := range sh.m {
			delete(sh.m, victim)
			break
		}
	}
	sh.m[k] = shardedItem{e: &benchValue{}, expires: time.Now().Add(s.ttl).UnixNano()}
}
