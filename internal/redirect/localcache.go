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
	"encoding/binary"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// key identifies a link in the in-process caches. A struct of the two strings a request
// already holds, rather than one joined string, so a lookup allocates nothing.
type key struct {
	domain, code string
}

// The in-process cache holds its links in memory the collector never walks: entries are
// appended to large byte chunks (no pointers, so never scanned), and each shard's index is a
// map[uint64]uint64 from a hash of the key to the entry's position (no pointers either). With
// the cache as three objects and nine pointers a link, marking it took a sixth of the
// redirector's CPU at a million links (docs/benchmarks.md).
//
// An entry, little-endian, at a position of its chunk:
//
//	expires (8: the clock's nanoseconds) | version (8) | flags (1) | redirect type less 300 (1) |
//	domain length (1) | code length (1) | URLs length (2) | target length (2) |
//	domain | code | URLs
//
// The URLs are, as stored in Redis's spirit: the validity window's ends when set (12 bytes
// each), maxVisits when set (8), then the target and the expiredTarget back to back.
//
// A chunk is only appended to, and the bytes of an entry never change once written except its
// flags byte's hit bit (under the shard's lock). So a hit's links.Link can point its target
// into the chunk without copying it: an evicted chunk stays alive while such a string points
// into it, and no string ever changes under a reader.
const (
	offExpires   = 0
	offVersion   = 8
	offFlags     = 16
	offRedirect  = 17
	offDomainLen = 18
	offCodeLen   = 19
	offURLsLen   = 20
	offTargetLen = 22
	entryHeader  = 24
)

const (
	entryForwardQuery uint8 = 1 << iota
	entryForwardPath
	entrySuspended
	entryValidSince
	entryValidUntil
	entryMaxVisits
	_
	// entryHit: the entry was read since it was written. Eviction gives it a second chance.
	entryHit
)

const (
	entryTimeLen  = 12 // Unix seconds (8 bytes) and nanoseconds (4), little-endian
	entryLimitLen = 8  // maxVisits, little-endian
	redirectBase  = 300
	maxRedirectIn = redirectBase + 0xff
	maxURLsLen    = 0xffff
)

// Sizing: a shard per 4 MiB of bound, at most 16 (two cores contend little on 16 locks), and
// a chunk a sixteenth of a shard, at most 256 KiB, so that evicting one is a small part of the
// shard. An entry larger than a quarter of a chunk is not cached: such a link is answered from
// Redis.
const (
	bytesPerShard = 4 << 20
	maxShards     = 16
	maxChunk      = 256 << 10
	minChunk      = 1 << 10
	// indexSlotBytes is what a link costs in its shard's index at most: a map[uint64]uint64
	// slot is 16 bytes and a control byte, and Go's map keeps its tables between 7/16 and 7/8
	// full. The index never shrinks short of a flush, so its largest size is what counts.
	indexSlotBytes = 40
)

// localCache is the in-process tier: bounded in bytes (its chunks and its index's largest
// size), with a hard TTL, holding versioned entries. An entry is never replaced by an older
// version, and a fill that an invalidation overtook is refused (see guard). No shards means
// the tier is off.
type localCache struct {
	shards     []cacheShard
	maxBytes   int64
	shardLimit int64
	chunkSize  int
	ttl        int64
	clock      otter.Clock
	guard      *guard
	seed       maphash.Seed
	// hashMask is all ones; a test clears it to make every key's hash collide.
	hashMask uint64
}

// cacheShard is a part of the cache under one lock. chunks[i] has the sequence number
// first+i; a position in the index is the chunk's sequence number and the offset in it.
type cacheShard struct {
	mu        sync.Mutex
	index     map[uint64]uint64
	chunks    []chunk // oldest first; the last is the one being written
	first     uint32
	ringBytes int64
	peak      int // the index's largest size since the last flush
	_         [64]byte
}

type chunk struct {
	b    []byte
	used int
}

func newLocalCache(maxBytes int64, ttl time.Duration, g *guard, clock otter.Clock) *localCache {
	lc := &localCache{guard: g, ttl: int64(ttl), clock: clock, seed: maphash.MakeSeed(), hashMask: ^uint64(0)}
	if maxBytes <= 0 {
		return lc
	}
	n := 1
	for n < maxShards && int64(n)*2*bytesPerShard <= maxBytes {
		n *= 2
	}
	lc.maxBytes = maxBytes
	lc.shards = make([]cacheShard, n)
	for i := range lc.shards {
		lc.shards[i].index = map[uint64]uint64{}
	}
	lc.shardLimit = maxBytes / int64(n)
	lc.chunkSize = int(min(max(lc.shardLimit/16, minChunk), maxChunk))
	return lc
}

// hash is k's 64-bit hash; equal hashes of different keys are told apart by the key bytes an
// entry holds (a collision is a miss, never another link).
func (lc *localCache) hash(domain, code string) uint64 {
	return hashKey(lc.seed, domain, code) & lc.hashMask
}

func (lc *localCache) shard(h uint64) *cacheShard {
	return &lc.shards[(h>>32)%uint64(len(lc.shards))]
}

// link sets *l, a zero links.Link, to k's link if the cache holds it, and reports whether it
// does.
func (lc *localCache) link(k key, l *links.Link) bool {
	if lc.shards == nil {
		return false
	}
	h := lc.hash(k.domain, k.code)
	sh := lc.shard(h)
	now := lc.clock.NowNano()
	sh.mu.Lock()
	e, ok := sh.find(h, k, now)
	if ok {
		if e[offFlags]&entryHit == 0 {
			e[offFlags] |= entryHit
		}
		readEntry(e, l, k.domain)
	}
	sh.mu.Unlock()
	if ok {
		// The code outlives the request (a visit held through a PostgreSQL outage keeps it): it
		// must not keep a whole chunk alive, as the target may.
		l.Code = strings.Clone(l.Code)
	}
	return ok
}

// find is the entry k's hash leads to, if it holds k and has not expired. Called under sh.mu.
func (sh *cacheShard) find(h uint64, k key, now int64) ([]byte, bool) {
	pos, ok := sh.index[h]
	if !ok {
		return nil, false
	}
	e := sh.entryAt(pos)
	if !holds(e, k) {
		return nil, false
	}
	if int64(binary.LittleEndian.Uint64(e[offExpires:])) <= now { //nolint:gosec // written from an int64
		delete(sh.index, h)
		return nil, false
	}
	return e, true
}

// entryAt is the entry at pos, to the end of its chunk.
func (sh *cacheShard) entryAt(pos uint64) []byte {
	c := sh.chunks[uint32(pos>>32)-sh.first]
	return c.b[uint32(pos):c.used] //nolint:gosec // an offset within a chunk
}

func position(seq uint32, off int) uint64 { return uint64(seq)<<32 | uint64(off) } //nolint:gosec // an offset within a chunk

func entryDomain(e []byte) []byte { return e[entryHeader : entryHeader+int(e[offDomainLen])] }

func entryCode(e []byte) []byte {
	start := entryHeader + int(e[offDomainLen])
	return e[start : start+int(e[offCodeLen])]
}

func entryLen(e []byte) int {
	return entryHeader + int(e[offDomainLen]) + int(e[offCodeLen]) + int(binary.LittleEndian.Uint16(e[offURLsLen:]))
}

// holds reports whether e is k's entry.
func holds(e []byte, k key) bool {
	return string(entryDomain(e)) == k.domain && string(entryCode(e)) == k.code
}

// entrySize is the bytes l's entry under k takes, or false when l does not fit an entry (URLs
// over 64 KiB, a domain or code over 255 bytes, a redirect type outside 300-555; none the API
// or the CRD accepts): such a link is answered from Redis.
func entrySize(k key, l links.Link) (int, bool) {
	urls := len(l.Target) + len(l.ExpiredTarget) + 2*entryTimeLen + entryLimitLen
	if urls > maxURLsLen || len(k.code) > 0xff || len(k.domain) > 0xff ||
		l.RedirectType < redirectBase || l.RedirectType > maxRedirectIn {
		return 0, false
	}
	n := entryHeader + len(k.domain) + len(k.code) + len(l.Target) + len(l.ExpiredTarget)
	if !l.ValidSince.IsZero() {
		n += entryTimeLen
	}
	if !l.ValidUntil.IsZero() {
		n += entryTimeLen
	}
	if l.MaxVisits > 0 {
		n += entryLimitLen
	}
	return n, true
}

// putEntry writes l's entry under k into e, which is entrySize's length.
func putEntry(e []byte, k key, l links.Link, expires int64) {
	var flags uint8
	for _, f := range []struct {
		set  bool
		flag uint8
	}{
		{l.ForwardQuery, entryForwardQuery}, {l.ForwardPath, entryForwardPath}, {l.Suspended, entrySuspended},
		{!l.ValidSince.IsZero(), entryValidSince}, {!l.ValidUntil.IsZero(), entryValidUntil},
		{l.MaxVisits > 0, entryMaxVisits},
	} {
		if f.set {
			flags |= f.flag
		}
	}
	binary.LittleEndian.PutUint64(e[offExpires:], uint64(expires))            //nolint:gosec // read back as int64
	binary.LittleEndian.PutUint64(e[offVersion:], uint64(l.Version))          //nolint:gosec // read back as int64
	e[offFlags], e[offRedirect] = flags, uint8(l.RedirectType-redirectBase)   //nolint:gosec // checked by entrySize
	e[offDomainLen], e[offCodeLen] = uint8(len(k.domain)), uint8(len(k.code)) //nolint:gosec // checked by entrySize
	binary.LittleEndian.PutUint16(e[offTargetLen:], uint16(len(l.Target)))    //nolint:gosec // checked by entrySize
	b := append(append(e[:entryHeader], k.domain...), k.code...)
	urlsStart := len(b)
	if flags&entryValidSince != 0 {
		b = appendTime(b, l.ValidSince)
	}
	if flags&entryValidUntil != 0 {
		b = appendTime(b, l.ValidUntil)
	}
	if flags&entryMaxVisits != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(l.MaxVisits)) //nolint:gosec // above zero
	}
	b = append(append(b, l.Target...), l.ExpiredTarget...)
	binary.LittleEndian.PutUint16(e[offURLsLen:], uint16(len(b)-urlsStart)) //nolint:gosec // checked by entrySize
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))          //nolint:gosec // read back as int64
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond())) //nolint:gosec // 0 ≤ ns < 1e9
}

// readTime reads what appendTime wrote at the start of s, in UTC as the Redis tier gives it.
func readTime(s string) time.Time {
	sec := readUint64(s)
	nsec := uint32(s[8]) | uint32(s[9])<<8 | uint32(s[10])<<16 | uint32(s[11])<<24
	return time.Unix(int64(sec), int64(nsec)).UTC() //nolint:gosec // written from an int64 and a nanosecond
}

// readUint64 reads a little-endian uint64 at the start of s, without copying s to a slice.
func readUint64(s string) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(s[i])
	}
	return x
}

// bytesString is b's bytes as a string, without copying: b is an entry's bytes, never written
// again (see the layout above).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b)) //nolint:gosec // an entry's bytes, never written again
}

// readEntry sets the answering fields of *l, a zero links.Link, to the link e holds, on domain
// (the key's). Its strings point into e's chunk. It writes in place rather than returning a
// links.Link: the hit path then copies no 200-byte struct from call to call.
func readEntry(e []byte, l *links.Link, domain string) {
	start := entryHeader + int(e[offDomainLen]) + int(e[offCodeLen])
	u := bytesString(e[start : start+int(binary.LittleEndian.Uint16(e[offURLsLen:]))])
	flags := e[offFlags]
	l.Domain, l.Code, l.RedirectType = domain, bytesString(entryCode(e)), redirectBase+int(e[offRedirect])
	l.Version = int64(binary.LittleEndian.Uint64(e[offVersion:])) //nolint:gosec // written from an int64
	l.ForwardQuery, l.ForwardPath = flags&entryForwardQuery != 0, flags&entryForwardPath != 0
	l.Suspended = flags&entrySuspended != 0
	if flags&entryValidSince != 0 {
		l.ValidSince, u = readTime(u), u[entryTimeLen:]
	}
	if flags&entryValidUntil != 0 {
		l.ValidUntil, u = readTime(u), u[entryTimeLen:]
	}
	if flags&entryMaxVisits != 0 {
		l.MaxVisits, u = int64(readUint64(u)), u[entryLimitLen:] //nolint:gosec // written from a positive int64
	}
	target := int(binary.LittleEndian.Uint16(e[offTargetLen:]))
	l.Target, l.ExpiredTarget = u[:target], u[target:]
}

// store keeps l, read by a fill for k that started at s, unless the cache holds l's version or
// a newer one or the guard refuses it. The check runs under the shard's lock, which drop
// takes too, so an invalidation either sees the stored entry and drops it, or has already
// left the floor that refuses it.
func (lc *localCache) store(k key, l links.Link, s snapshot) {
	if lc.shards == nil {
		return
	}
	size, ok := entrySize(k, l)
	if !ok || size > lc.chunkSize/4 {
		return
	}
	h := lc.hash(k.domain, k.code)
	sh := lc.shard(h)
	now := lc.clock.NowNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, found := sh.find(h, k, now); found && int64(binary.LittleEndian.Uint64(old[offVersion:])) >= l.Version { //nolint:gosec // written from an int64
		return
	}
	if !lc.guard.allowsLink(k, s, l.Version) {
		return
	}
	pos, e, ok := lc.reserve(sh, size, now)
	if !ok {
		return
	}
	putEntry(e, k, l, now+lc.ttl)
	sh.index[h] = pos // a colliding key's entry, if any, is no longer found
	lc.grown(sh, now)
}

// reserve takes size bytes at the end of the chunk being written, starting another when they
// do not fit. Called under sh.mu.
func (lc *localCache) reserve(sh *cacheShard, size int, now int64) (uint64, []byte, bool) {
	if n := len(sh.chunks); n == 0 || sh.chunks[n-1].used+size > lc.chunkSize {
		if !lc.newChunk(sh, now) {
			return 0, nil, false
		}
	}
	n := len(sh.chunks)
	c := &sh.chunks[n-1]
	off := c.used
	c.used += size
	return position(sh.first+uint32(n-1), off), c.b[off:c.used], true //nolint:gosec // a few chunks
}

// newChunk starts a chunk, first evicting the oldest chunks for as long as the bound would be
// exceeded. The entries of an evicted chunk that were read since they were written are
// written again into the new chunk, up to half of it (a second chance: close to LRU's hit
// ratio on skewed popularity, at FIFO's cost); the others are dropped. Called under sh.mu.
func (lc *localCache) newChunk(sh *cacheShard, now int64) bool {
	next := chunk{b: make([]byte, lc.chunkSize)}
	seq := sh.first + uint32(len(sh.chunks)) //nolint:gosec // a few chunks
	for len(sh.chunks) > 0 && lc.over(sh, int64(lc.chunkSize)) {
		lc.evictOldest(sh, &next, seq, now)
	}
	if lc.over(sh, int64(lc.chunkSize)) {
		return false
	}
	sh.chunks = append(sh.chunks, next)
	sh.ringBytes += int64(lc.chunkSize)
	return true
}

// over reports whether sh would take more than its share of the bound with extra bytes more.
func (lc *localCache) over(sh *cacheShard, extra int64) bool {
	return sh.ringBytes+extra+int64(sh.peak)*indexSlotBytes > lc.shardLimit
}

// grown counts an index that has grown past its largest size: the map keeps the room, so
// the oldest chunks give way to it (their entries dropped). Called under sh.mu.
func (lc *localCache) grown(sh *cacheShard, now int64) {
	if len(sh.index) <= sh.peak {
		return
	}
	sh.peak = len(sh.index)
	for len(sh.chunks) > 1 && lc.over(sh, 0) {
		lc.evictOldest(sh, nil, 0, now)
	}
}

// evictOldest removes sh's oldest chunk. Its entries the index still points to are dropped,
// except, when next is not nil, those given a second chance, which are copied into next
// (sequence number seq).
func (lc *localCache) evictOldest(sh *cacheShard, next *chunk, seq uint32, now int64) {
	old, oldSeq := sh.chunks[0], sh.first
	sh.chunks[0] = chunk{}
	sh.chunks = sh.chunks[1:]
	sh.first++
	sh.ringBytes -= int64(lc.chunkSize)
	for off := 0; off < old.used; {
		e := old.b[off:old.used]
		size := entryLen(e)
		e = e[:size]
		h := lc.hash(bytesString(entryDomain(e)), bytesString(entryCode(e)))
		if pos, ok := sh.index[h]; ok && pos == position(oldSeq, off) {
			live := int64(binary.LittleEndian.Uint64(e[offExpires:])) > now //nolint:gosec // written from an int64
			if next != nil && live && e[offFlags]&entryHit != 0 && next.used+size <= lc.chunkSize/2 {
				copy(next.b[next.used:], e)
				next.b[next.used+offFlags] &^= entryHit
				sh.index[h] = position(seq, next.used)
				next.used += size
			} else {
				delete(sh.index, h)
			}
		}
		off += size
	}
}

// drop removes k's entry if it is older than version.
func (lc *localCache) drop(k key, version int64) {
	if lc.shards == nil {
		return
	}
	h := lc.hash(k.domain, k.code)
	sh := lc.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.find(h, k, lc.clock.NowNano()); ok && int64(binary.LittleEndian.Uint64(e[offVersion:])) < version { //nolint:gosec // written from an int64
		delete(sh.index, h)
	}
}

func (lc *localCache) flush() {
	for i := range lc.shards {
		sh := &lc.shards[i]
		sh.mu.Lock()
		sh.index, sh.chunks, sh.ringBytes, sh.peak = map[uint64]uint64{}, nil, 0, 0
		sh.mu.Unlock()
	}
}

// registerLocalCacheGauges registers the gauges of the in-process cache held in lc, read at
// each scrape (each takes every shard's lock in turn, briefly: fine once a scrape, not on
// every request).
func registerLocalCacheGauges(f promauto.Factory, lc *atomic.Pointer[localCache]) {
	gauge := func(name, help string, value func(*localCache) float64) {
		f.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if c := lc.Load(); c != nil {
				return value(c)
			}
			return 0
		})
	}
	gauge("shortlink_local_cache_bytes", "Heap bytes of the in-process cache: its chunks, and its index at its largest since the last flush.",
		func(c *localCache) float64 { return float64(c.bytes()) })
	gauge("shortlink_local_cache_limit_bytes", "Bound of shortlink_local_cache_bytes (--local-cache-bytes); 0 when the cache is off.",
		func(c *localCache) float64 { return float64(c.limit()) })
	gauge("shortlink_local_cache_entries", "Links held in the in-process cache (expired ones included until they are read or evicted).",
		func(c *localCache) float64 { return float64(c.entries()) })
}

// bytes is the heap the cache takes: its chunks and its index at its largest (the bound's
// measure); limit is the bound.
func (lc *localCache) bytes() uint64 {
	var n int64
	for i := range lc.shards {
		sh := &lc.shards[i]
		sh.mu.Lock()
		n += sh.ringBytes + int64(sh.peak)*indexSlotBytes
		sh.mu.Unlock()
	}
	return uint64(n) //nolint:gosec // never negative
}

func (lc *localCache) entries() int {
	n := 0
	for i := range lc.shards {
		sh := &lc.shards[i]
		sh.mu.Lock()
		n += len(sh.index)
		sh.mu.Unlock()
	}
	return n
}

func (lc *localCache) limit() uint64 {
	return uint64(lc.maxBytes) //nolint:gosec // never negative
}
