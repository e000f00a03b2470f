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
// tags and ownership take no memory in any replica, in 40 bytes besides one string. The code,
// target and expiredTarget are that one string back to back, and the key's code is a slice of
// it too, so a link costs otter's node (which holds the entry inline) and one allocation.
// A hit builds the links.Link from it without allocating. It is never modified once stored.
type entry struct {
	text      string // code, target, expiredTarget
	version   int64
	window    *window // nil unless validSince or validUntil is set, which few links have
	codeEnd   uint8   // text[:codeEnd] is the code (at most links.MaxCodeLength bytes)
	flags     uint8
	targetEnd uint16 // text[codeEnd:targetEnd] is the target, text[targetEnd:] expiredTarget
	redirect  uint16
}

// window is a link's validity window, kept apart because few links have one.
type window struct{ since, until time.Time }

const (
	entryForwardQuery uint8 = 1 << iota
	entryForwardPath
	entrySuspended
)

// newEntry keeps what answering l needs, or reports false when l's strings are too long for
// the entry's offsets; such a link (none the API or the CRD accepts) is answered from Redis.
func newEntry(l links.Link) (entry, bool) {
	codeEnd, targetEnd := len(l.Code), len(l.Code)+len(l.Target)
	if codeEnd > 0xff || targetEnd > 0xffff || l.RedirectType < 0 || l.RedirectType > 0xffff {
		return entry{}, false
	}
	e := entry{
		text: l.Code + l.Target + l.ExpiredTarget, version: l.Version,
		codeEnd: uint8(codeEnd), targetEnd: uint16(targetEnd), redirect: uint16(l.RedirectType), //nolint:gosec // checked above
	}
	if !l.ValidSince.IsZero() || !l.ValidUntil.IsZero() {
		e.window = &window{since: l.ValidSince, until: l.ValidUntil}
	}
	for _, f := range []struct {
		set  bool
		flag uint8
	}{{l.ForwardQuery, entryForwardQuery}, {l.ForwardPath, entryForwardPath}, {l.Suspended, entrySuspended}} {
		if f.set {
			e.flags |= f.flag
		}
	}
	return e, true
}

// code is the link's code, a slice of text: the key stored with the entry uses it, so the code
// is not a string of its own.
func (e entry) code() string { return e.text[:e.codeEnd] }

// link is the link e holds, on domain (the key's: every entry of a key has its domain).
func (e entry) link(domain string) links.Link {
	l := links.Link{
		Domain: domain, Code: e.text[:e.codeEnd], Target: e.text[e.codeEnd:e.targetEnd],
		ExpiredTarget: e.text[e.targetEnd:], RedirectType: int(e.redirect), Version: e.version,
		ForwardQuery: e.flags&entryForwardQuery != 0, ForwardPath: e.flags&entryForwardPath != 0,
		Suspended: e.flags&entrySuspended != 0,
	}
	if e.window != nil {
		l.ValidSince, l.ValidUntil = e.window.since, e.window.until
	}
	return l
}

// entryOverhead is what an entry costs on the heap besides its text: otter's node with the
// key and the entry inline (128 bytes) and its share of otter's hash table and frequency
// sketch, which grow in steps (TestLocalCacheHeapPerLink, runtime.MemStats after a collection:
// 231 to 242 bytes a link with an 8-byte code and a 60-byte target, 80 of them the text's
// allocation, from 200,000 to 1,000,000 links). The weigher counts it, rounded up, so the byte
// bound is a bound on the heap, not only on the strings.
const entryOverhead = 176

// weight is an entry's estimated heap bytes: the overhead and its text rounded up to the
// allocator's 16-byte steps (the small size classes), plus its validity window's allocation.
func weight(_ key, e entry) uint32 {
	w := entryOverhead + (len(e.text)+15)&^15
	if e.window != nil {
		w += 48
	}
	return uint32(w) //nolint:gosec // text is under 64 KiB + 255 bytes
}

// localCache is the in-process tier: bounded in bytes (the entries' weights), with a hard
// TTL, holding versioned entries. An entry is never replaced by an older version, and a fill
// that an invalidation overtook is refused (see guard). A nil *otter.Cache means the tier is
// off.
type localCache struct {
	c     *otter.Cache[key, entry]
	guard *guard
}

func newLocalCache(maxBytes int64, ttl time.Duration, g *guard, clock otter.Clock) *localCache {
	lc := &localCache{guard: g}
	if maxBytes > 0 {
		lc.c = otter.Must(&otter.Options[key, entry]{
			MaximumWeight:    uint64(maxBytes),
			Weigher:          weight,
			ExpiryCalculator: otter.ExpiryWriting[key, entry](ttl),
			Clock:            clock,
		})
	}
	return lc
}

func (lc *localCache) get(k key) (entry, bool) {
	if lc.c == nil {
		return entry{}, false
	}
	return lc.c.GetIfPresent(k)
}

// store keeps l, read by a fill for k that started at s, unless the cache holds l's version or
// a newer one or the guard refuses it. The check runs under the key's lock, so an invalidation
// either sees the stored entry and drops it, or has already left the floor that refuses it.
func (lc *localCache) store(k key, l links.Link, s snapshot) {
	if lc.c == nil {
		return
	}
	e, ok := newEntry(l)
	if !ok {
		return
	}
	// The key's code is the entry's, so the stored key keeps no string of its own (nor the
	// request's). k.domain is one of the served domains' strings, shared by every entry.
	stored := key{domain: k.domain, code: e.code()}
	lc.c.Compute(stored, func(old entry, found bool) (entry, otter.ComputeOp) {
		if (found && old.version >= l.Version) || !lc.guard.allowsLink(stored, s, l.Version) {
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
	lc.c.ComputeIfPresent(k, func(old entry) (entry, otter.ComputeOp) {
		if old.version < version {
			return entry{}, otter.InvalidateOp
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
