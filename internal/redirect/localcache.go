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

// entry is what the in-process cache holds for a link: only what answering needs, so that
// tags and ownership take no memory in any replica. It is 32 bytes, the allocator's class of
// that size, and points at two strings, which is why it holds their pointers and lengths
// rather than two string headers (16 bytes each, which took it to the 48-byte class):
//
//   - the code, which the stored key shares (one allocation for both). It is kept apart on
//     purpose: a visit held through a PostgreSQL outage keeps the link's code, and must not keep
//     the link's URLs with it once the entry is evicted (the aggregator counts a held visit's
//     code);
//   - the URLs: the validity window's ends when set (12 bytes each), maxVisits when set (8
//     bytes; only limited links carry it), then the target and the expiredTarget back to back. With a 60-byte target, 60 bytes in the 64-byte class.
//
// otter keeps a pointer to it: a value held inline in otter's node is copied through the
// generic code on every read, which measured twice the time of a pointer's. A hit builds the
// links.Link with the two strings and slices of them, without allocating. An entry is never
// modified once stored.
type entry struct {
	code      *byte // code's bytes, codeLen of them
	urls      *byte // the URLs' bytes, urlsLen of them
	version   int64
	urlsLen   uint16
	targetLen uint16
	codeLen   uint8
	redirect  uint8 // the redirect type less redirectBase
	flags     uint8
}

const (
	entryForwardQuery uint8 = 1 << iota
	entryForwardPath
	entrySuspended
	entryValidSince
	entryValidUntil
	entryMaxVisits
)

const (
	entryTimeLen  = 12 // Unix seconds (8 bytes) and nanoseconds (4), little-endian
	entryLimitLen = 8  // maxVisits, little-endian
	redirectBase  = 300
	maxRedirectIn = redirectBase + 0xff
	maxURLsLen    = 0xffff
)

// newEntry keeps what answering l needs, with code as its code, or reports false when l does
// not fit the entry (URLs over 64 KiB, a code over 255 bytes, a redirect type outside
// 300-555; none the API or the CRD accepts): such a link is answered from Redis.
func newEntry(code string, l links.Link) (*entry, bool) {
	if len(l.Target)+len(l.ExpiredTarget)+2*entryTimeLen+entryLimitLen > maxURLsLen || len(code) > 0xff ||
		l.RedirectType < redirectBase || l.RedirectType > maxRedirectIn {
		return nil, false
	}
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
	b := make([]byte, 0, 2*entryTimeLen+entryLimitLen+len(l.Target)+len(l.ExpiredTarget))
	if flags&entryValidSince != 0 {
		b = appendTime(b, l.ValidSince)
	}
	if flags&entryValidUntil != 0 {
		b = appendTime(b, l.ValidUntil)
	}
	if flags&entryMaxVisits != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(l.MaxVisits)) //nolint:gosec // above zero
	}
	urls := string(append(append(b, l.Target...), l.ExpiredTarget...))
	return &entry{
		code: unsafe.StringData(code), urls: unsafe.StringData(urls), version: l.Version, //nolint:gosec // read back by unsafe.String with their lengths
		urlsLen: uint16(len(urls)), targetLen: uint16(len(l.Target)), codeLen: uint8(len(code)), //nolint:gosec // checked above
		redirect: uint8(l.RedirectType - redirectBase), flags: flags, //nolint:gosec // checked above
	}, true
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

// codeString is the link's code, the string the stored key holds.
func (e *entry) codeString() string {
	return unsafe.String(e.code, int(e.codeLen)) //nolint:gosec // the code's own bytes and length (newEntry)
}

// fill sets the answering fields of *l, a zero links.Link, to the link e holds, on domain (the
// key's: every entry of a key has its domain). It writes in place rather than returning a
// links.Link: the hit path then copies no 200-byte struct from call to call.
func (e *entry) fill(l *links.Link, domain string) {
	u := unsafe.String(e.urls, int(e.urlsLen)) //nolint:gosec // the URLs' own bytes and length (newEntry)
	l.Domain, l.Code, l.RedirectType, l.Version = domain, e.codeString(), redirectBase+int(e.redirect), e.version
	l.ForwardQuery, l.ForwardPath = e.flags&entryForwardQuery != 0, e.flags&entryForwardPath != 0
	l.Suspended = e.flags&entrySuspended != 0
	if e.flags&entryValidSince != 0 {
		l.ValidSince, u = readTime(u), u[entryTimeLen:]
	}
	if e.flags&entryValidUntil != 0 {
		l.ValidUntil, u = readTime(u), u[entryTimeLen:]
	}
	if e.flags&entryMaxVisits != 0 {
		l.MaxVisits, u = int64(readUint64(u)), u[entryLimitLen:] //nolint:gosec // written from a positive int64
	}
	l.Target, l.ExpiredTarget = u[:e.targetLen], u[e.targetLen:]
}

// link is the link e holds, on domain.
func (e *entry) link(domain string) links.Link {
	var l links.Link
	e.fill(&l, domain)
	return l
}

// entryOverhead is what an entry costs on the heap besides its two strings: otter's node with
// the key and a pointer to the entry (96 bytes), the entry (32), and the link's share of
// otter's hash table and frequency sketch, which grow in steps (TestLocalCacheHeapPerLink,
// runtime.MemStats after a collection: 231 to 242 bytes a link with an 8-byte code and a 60-byte
// target, 72 of them the strings', from 200,000 to 1,000,000 links). The weigher counts it,
// rounded up, so the byte bound is a bound on the heap, not only on the strings.
const entryOverhead = 176

// weight is an entry's estimated heap bytes: the overhead and its strings rounded up to the
// allocator's 8- and 16-byte steps (its small size classes).
func weight(_ key, e *entry) uint32 {
	return uint32(entryOverhead + (int(e.codeLen)+7)&^7 + (int(e.urlsLen)+15)&^15) //nolint:gosec // under 128 KiB
}

// localCache is the in-process tier: bounded in bytes (the entries' weights), with a hard
// TTL, holding versioned entries. An entry is never replaced by an older version, and a fill
// that an invalidation overtook is refused (see guard). A nil *otter.Cache means the tier is
// off.
type localCache struct {
	c     *otter.Cache[key, *entry]
	guard *guard
}

func newLocalCache(maxBytes int64, ttl time.Duration, g *guard, clock otter.Clock) *localCache {
	lc := &localCache{guard: g}
	if maxBytes > 0 {
		lc.c = otter.Must(&otter.Options[key, *entry]{
			MaximumWeight:    uint64(maxBytes),
			Weigher:          weight,
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

// link sets *l, a zero links.Link, to k's link if the cache holds it, and reports whether it
// does.
func (lc *localCache) link(k key, l *links.Link) bool {
	if lc.c == nil {
		return false
	}
	e, ok := lc.c.GetIfPresent(k)
	if ok {
		e.fill(l, k.domain)
	}
	return ok
}

// store keeps l, read by a fill for k that started at s, unless the cache holds l's version or
// a newer one or the guard refuses it. The check runs under the key's lock, so an invalidation
// either sees the stored entry and drops it, or has already left the floor that refuses it.
func (lc *localCache) store(k key, l links.Link, s snapshot) {
	if lc.c == nil {
		return
	}
	// k's code is the fill's own copy, never the request's: the stored key and the entry share
	// it. k.domain is one of the served domains' strings, shared by every entry.
	e, ok := newEntry(k.code, l)
	if !ok {
		return
	}
	lc.c.Compute(k, func(old *entry, found bool) (*entry, otter.ComputeOp) {
		if (found && old.version >= l.Version) || !lc.guard.allowsLink(k, s, l.Version) {
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
		if old.version < version {
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

// registerLocalCacheGauges registers the gauges of the in-process cache held in lc, read at
// each scrape (reading the weight takes otter's eviction lock, briefly: fine once a scrape,
// not on every request).
func registerLocalCacheGauges(f promauto.Factory, lc *atomic.Pointer[localCache]) {
	gauge := func(name, help string, value func(*localCache) float64) {
		f.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if c := lc.Load(); c != nil {
				return value(c)
			}
			return 0
		})
	}
	gauge("shortlink_local_cache_bytes", "Estimated heap bytes of the links held in the in-process cache (the sum of their weights).",
		func(c *localCache) float64 { return float64(c.bytes()) })
	gauge("shortlink_local_cache_limit_bytes", "Bound of shortlink_local_cache_bytes (--local-cache-bytes); 0 when the cache is off.",
		func(c *localCache) float64 { return float64(c.limit()) })
	gauge("shortlink_local_cache_entries", "Links held in the in-process cache (an estimate).",
		func(c *localCache) float64 { return float64(c.entries()) })
}

// bytes is the estimated heap the entries take (their summed weights); limit is the bound.
func (lc *localCache) bytes() uint64 {
	if lc.c == nil {
		return 0
	}
	return lc.c.WeightedSize()
}

func (lc *localCache) entries() int {
	if lc.c == nil {
		return 0
	}
	return lc.c.EstimatedSize()
}

func (lc *localCache) limit() uint64 {
	if lc.c == nil {
		return 0
	}
	return lc.c.GetMaximum()
}
