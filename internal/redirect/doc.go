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
// The in-process cache is github.com/maypok86/otter/v2, chosen with localcache_bench_test.go
// over hashicorp/golang-lru/v2's expirable LRU and a sharded map with expiry written for the
// comparison, each bounded and with a hard TTL. Medians of five runs on this project's shared
// 2-core machine (go test -bench LocalCache -cpu 1,2 -count 5):
//
//	workload                                 otter      lru-expirable   sharded map
//	hot: 1,000 keys, ns/get, 1 goroutine     75         97              115
//	hot: 1,000 keys, ns/get, 2 goroutines    82         102             113
//	Zipf: 100,000 keys into 10,000, misses   13.6 %     15.6 %          19.8 %
//
// None allocates on a hit (the key is a struct of the request's two strings). Otter reads
// fastest, and its reads take no lock, where the LRU takes one mutex on every Get to move the
// entry (invisible on 2 cores, a queue on 16); its admission policy keeps more of a Zipf
// workload than LRU or arbitrary eviction, so fewer requests reach Redis; and its Compute runs
// a check and a write under the key's lock, which is exactly what a versioned insert that must
// lose to a concurrent invalidation needs. (The Zipf times, about 330 ns for all three, are
// mostly the generator's.) In production the caches also share a coarse clock, so an
// expiring read costs a load rather than a clock read.
//
// The cache is bounded in bytes of heap rather than in links (issue 21): otter weighs each
// entry with what it is estimated to take, its node, table shares and strings (localcache.go),
// and evicts by weight. An entry keeps only what answering needs: a 32-byte struct pointing at
// the code, which the stored key shares, and at one string with the target and expiredTarget:
// 231-242 bytes of heap a link with a 60-byte target, against 443 when the entry was a whole
// links.Link. A hit fills the answer with those strings and slices of them, without
// allocating.
package redirect
