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

// Package redirect holds the redirector's HTTP handlers (NewServer) and the tiers that resolve
// a short code (Resolver): an in-process cache, Redis, then PostgreSQL through PgBouncer, kept
// in step with changes by Redis pub/sub and by polling the change feed.
//
// It must not hold SQL or Redis commands (internal/store and internal/cache own those), visit
// aggregation (internal/stats: the handlers only hand each visit to a VisitRecorder), or any
// rule of what a link answers (links.Link.Decide and DecidePath decide, forwarded paths
// included; this package only writes it out). QR images (qr.go) are drawn here because they
// are a response format of the short URL, not a rule of the link.
//
// # Resolving
//
// A request is answered from memory almost always. On a local miss one lookup per key is in
// flight (flights, a small singleflight of its own): Redis first, then PostgreSQL, whose answer
// is written back to Redis through its compare-version script. Unknown codes go into a negative cache of their own,
// bounded apart from the links, so a flood of random codes costs PostgreSQL one lookup per
// code per NegativeTTL and cannot evict a hot link. Every call has a deadline of its own, and a
// circuit breaker skips a dead Redis instead of waiting on it, so an outage of Redis or
// PostgreSQL never turns a link held in memory (or in Redis) into an error.
//
// Entries are versioned: an insert never replaces a newer entry, and an invalidation for
// version V also leaves V as a floor for its key for a while, so a fill that read the old row
// before the change cannot store it after (see guard). A pub/sub (re)subscription flushes the
// in-process caches, since messages sent meanwhile are lost; the change feed, polled every
// second from a little behind the highest version seen, is the durable path. Every entry has
// a hard TTL besides.
//
// # The in-process cache
//
// The in-process cache (localcache.go) is this package's own: entries appended to pointer-free
// byte chunks, indexed per shard by a map[uint64]uint64 from a hash of the key to the entry's
// position, evicted a whole chunk at a time, oldest first, with a second chance for entries
// read since they were written. The collector never walks it: with otter (below) a cached link
// was three objects and nine pointers, and at a million links under a 200 MiB limit marking
// them took a sixth of the redirector's CPU (docs/benchmarks.md). A link with a 60-byte target
// now takes 143-150 bytes of heap, against 231-242 in otter and 443 as a whole links.Link.
// A hit takes the shard's mutex (16 shards, for two cores), compares the key bytes (a hash
// collision is a miss), and points the answer's target into the chunk; only the code is
// copied, as a held visit keeps it. A check and a write under the same mutex give the
// versioned insert that must lose to a concurrent invalidation.
//
// Before it, the cache was github.com/maypok86/otter/v2 (which the rate limiter still uses),
// chosen with localcache_bench_test.go over hashicorp/golang-lru/v2's expirable LRU and a
// sharded map with expiry written for the comparison, each bounded and with a hard TTL.
// Medians of five runs on this project's shared 2-core machine (go test -bench LocalCache -cpu
// 1,2 -count 5):
//
//	workload                                 otter      lru-expirable   sharded map
//	hot: 1,000 keys, ns/get, 1 goroutine     75         97              115
//	hot: 1,000 keys, ns/get, 2 goroutines    82         102             113
//	Zipf: 100,000 keys into 10,000, misses   13.6 %     15.6 %          19.8 %
//
// The benchmarks now have the chunked cache as a fourth candidate. Its second chance misses as
// often as otter's admission policy on the Zipf workload (13.4 % against 13.2-13.8 % in one
// run of each at load 6, where every time per get was two to four times the table's); its one
// allocation is the hit's copy of the code.
package redirect
