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
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// benchTarget is a 60-byte target, the size the per-link goal (issue 21) is stated for.
func benchTarget(i int) string {
	return fmt.Sprintf("https://www.example.com/campaigns/2026/landing?id=%010d", i)
}

func testLocalCache(t testing.TB, maxBytes int64) *localCache {
	t.Helper()
	clock := otter.NewCoarseClock(clockResolution)
	g := newGuard(1000, time.Minute, clock)
	lc := newLocalCache(maxBytes, time.Hour, g, clock)
	t.Cleanup(clock.Stop)
	return lc
}

// heapBytes is the live heap after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// storeLinks fills lc with n links whose codes and targets are strings of their own, as links
// read from Redis or PostgreSQL are, and returns the heap they added.
func storeLinks(t testing.TB, lc *localCache, n int) (perLink float64) {
	t.Helper()
	const domain = "go.example.com"
	before := heapBytes()
	for i := range n {
		code := fmt.Sprintf("c%07d", i)
		l := links.Link{Domain: domain, Code: strings.Clone(code), Target: benchTarget(i), RedirectType: http.StatusFound, Version: 1}
		lc.store(key{domain: domain, code: code}, l, snapshot{})
	}
	after := heapBytes()
	runtime.KeepAlive(lc)
	return (float64(after) - float64(before)) / float64(n)
}

// The heap a cached link takes (a 60-byte target, a 8-byte code, a 14-byte domain): at most 160
// bytes (issue 21 asks ≤ 256; 143 to 150 measured from 100,000 to 1,000,000 links, the entry's
// 106 bytes in its chunk and the index's slot), and no more than its weight says, so that the
// byte bound is a bound on the heap.
func TestLocalCacheHeapPerLink(t *testing.T) {
	const n = 300_000
	const maxPerLink = 160
	lc := testLocalCache(t, 1<<30)
	perLink := storeLinks(t, lc, n)
	if got := lc.entries(); got != n {
		t.Fatalf("cache holds %d links, want %d", got, n)
	}
	weightPerLink := float64(lc.bytes()) / n
	t.Logf("heap %.1f bytes a link, weight %.1f", perLink, weightPerLink)
	if perLink > maxPerLink {
		t.Errorf("a cached link takes %.1f bytes of heap, want ≤ %d", perLink, maxPerLink)
	}
	if perLink > weightPerLink {
		t.Errorf("a cached link takes %.1f bytes of heap but weighs %.1f: the byte bound would be exceeded", perLink, weightPerLink)
	}
}

// An entry gives back every field answering reads, for links with and without the rarer ones,
// and drops only what no answer needs (tags, source, owner).
func TestLocalCacheEntryKeepsWhatAnsweringNeeds(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	until := time.Date(2300, 12, 31, 23, 59, 59, 999_999_999, time.UTC) // past int64 Unix nanoseconds
	for _, l := range []links.Link{
		{Code: "plain", Target: benchTarget(1), RedirectType: http.StatusFound, Version: 7},
		{Code: "all", Target: "https://example.com/a?b=c", RedirectType: http.StatusPermanentRedirect, Version: 1 << 40,
			ForwardQuery: true, ForwardPath: true, Suspended: true, ValidSince: since, ValidUntil: until,
			ExpiredTarget: "https://example.com/expired", MaxVisits: 1 << 50},
		{Code: "limited", Target: "https://example.com/l", RedirectType: http.StatusFound, Version: 4, MaxVisits: 5},
		{Code: "until", Target: "https://example.com/", RedirectType: http.StatusMovedPermanently, Version: 2, ValidUntil: until,
			ExpiredTarget: "https://example.com/later"},
		{Code: "since", Target: "https://example.com/" + strings.Repeat("x", 2000), RedirectType: http.StatusTemporaryRedirect,
			Version: 3, ValidSince: since},
	} {
		full := l
		full.Domain, full.Tags, full.Source, full.Owner, full.OwnerUID = "go.example.com", []string{"t"}, links.SourceK8s, "ns/n", "uid"
		lc := testLocalCache(t, 1<<20)
		k := key{domain: "go.example.com", code: strings.Clone(l.Code)}
		lc.store(k, full, snapshot{})
		var got links.Link
		if !lc.link(k, &got) {
			t.Fatalf("%s: not kept", l.Code)
		}
		l.Domain = "go.example.com"
		if !reflect.DeepEqual(got, l) {
			t.Errorf("%s: entry gives\n%+v\nwant\n%+v", l.Code, got, l)
		}
	}
}

// A link the entry cannot hold is not cached, and so is read from the tier below each time,
// rather than cut short.
func TestLocalCacheLeavesOutWhatItCannotHold(t *testing.T) {
	t.Parallel()
	lc := testLocalCache(t, 1<<20)
	for _, l := range []links.Link{
		{Code: "long", Target: "https://example.com/" + strings.Repeat("x", 1<<16), RedirectType: http.StatusFound, Version: 1},
		{Code: "odd", Target: "https://example.com/", RedirectType: 299, Version: 1},
	} {
		k := key{domain: "", code: l.Code}
		lc.store(k, l, snapshot{})
		if lc.link(k, &links.Link{}) {
			t.Errorf("%s: cached", l.Code)
		}
	}
	l := links.Link{Code: "fits", Target: "https://example.com/", RedirectType: http.StatusFound, Version: 1}
	lc.store(key{code: l.Code}, l, snapshot{})
	var got links.Link
	if ok := lc.link(key{code: l.Code}, &got); !ok || got.Target != l.Target {
		t.Errorf("a link that fits: %+v, %v", got, ok)
	}
}

// cachedCodes is the code of every entry lc's index points to, as the chunks hold them.
func cachedCodes(lc *localCache) []string {
	var codes []string
	for i := range lc.shards {
		sh := &lc.shards[i]
		sh.mu.Lock()
		for _, pos := range sh.index {
			codes = append(codes, bytesString(entryCode(sh.entryAt(pos))))
		}
		sh.mu.Unlock()
	}
	return codes
}

// manualClock is an otter.Clock a test moves by hand.
type manualClock struct{ now atomic.Int64 }

func (c *manualClock) NowNano() int64                      { return c.now.Load() }
func (c *manualClock) Tick(time.Duration) <-chan time.Time { return nil }

func codeTarget(code string) string { return "https://www.example.com/landing/" + code }

func storeCode(lc *localCache, code string, version int64) {
	l := links.Link{Domain: "go.example.com", Code: code, Target: codeTarget(code), RedirectType: http.StatusFound, Version: version}
	lc.store(key{domain: "go.example.com", code: code}, l, snapshot{})
}

func lookup(lc *localCache, code string) (links.Link, bool) {
	var l links.Link
	ok := lc.link(key{domain: "go.example.com", code: code}, &l)
	return l, ok
}

// The cache stays within its bound in bytes, the index's room counted, and the heap it adds
// stays within it too, however many links pass through it.
func TestLocalCacheStaysWithinItsBound(t *testing.T) {
	const limit = 1 << 20
	lc := testLocalCache(t, limit)
	before := heapBytes()
	for i := range 50_000 { // some seven times what fits
		storeCode(lc, fmt.Sprintf("b%07d", i), 1)
		if i%1000 == 0 && lc.bytes() > limit {
			t.Fatalf("after %d links the cache weighs %d bytes, over its bound of %d", i, lc.bytes(), limit)
		}
	}
	grown := float64(heapBytes()) - float64(before)
	runtime.KeepAlive(lc)
	t.Logf("%d links in %d bytes of weight, heap grown by %.0f", lc.entries(), lc.bytes(), grown)
	if lc.bytes() > limit || grown > limit {
		t.Errorf("weight %d, heap grown by %.0f; want both ≤ %d", lc.bytes(), grown, limit)
	}
	if n := lc.entries(); n < limit/256 {
		t.Errorf("the cache holds %d links in %d bytes; want at least %d", n, limit, limit/256)
	}
	if _, ok := lookup(lc, "b0000000"); ok {
		t.Error("the first link is still cached after seven times the bound passed through")
	}
}

// Eviction keeps the links read since they were written (a second chance): links read now and
// then stay cached while many times the bound of links read once pass through.
func TestLocalCacheEvictionKeepsRecentlyHitLinks(t *testing.T) {
	t.Parallel()
	lc := testLocalCache(t, 1<<20)
	hot := make([]string, 100)
	for i := range hot {
		hot[i] = fmt.Sprintf("hot%03d", i)
		storeCode(lc, hot[i], 1)
	}
	for i := range 60_000 {
		storeCode(lc, fmt.Sprintf("cold%07d", i), 1)
		if i%500 != 0 {
			continue
		}
		for _, code := range hot {
			if l, ok := lookup(lc, code); !ok || l.Target != codeTarget(code) {
				t.Fatalf("after %d links read once, hot link %s: %+v, %v; want it cached", i, code, l, ok)
			}
		}
	}
	if _, ok := lookup(lc, "cold0000000"); ok {
		t.Error("a link read never is still cached after many times the bound passed through")
	}
}

// A hit's strings point into the cache's memory; they stay as they were after their entry is
// evicted and its memory's room is taken by other links.
func TestLocalCacheStringsOfAnEvictedLinkStayIntact(t *testing.T) {
	t.Parallel()
	lc := testLocalCache(t, 1<<20)
	storeCode(lc, "kept", 1)
	l, ok := lookup(lc, "kept")
	if !ok {
		t.Fatal("not cached")
	}
	for i := 0; ; i++ {
		storeCode(lc, fmt.Sprintf("x%07d", i), 1)
		if _, ok := lookup(lc, "kept"); !ok {
			break
		}
	}
	for i := range 20_000 { // the evicted memory's room taken again
		storeCode(lc, fmt.Sprintf("y%07d", i), 1)
	}
	runtime.GC()
	if l.Code != "kept" || l.Target != codeTarget("kept") || l.Domain != "go.example.com" {
		t.Errorf("an evicted link's strings changed: %+v", l)
	}
}

// Two keys whose hashes are equal are told apart: each is a miss for the other, never the
// other's link, and dropping one leaves the other.
func TestLocalCacheHashCollisionIsAMiss(t *testing.T) {
	t.Parallel()
	lc := testLocalCache(t, 1<<20)
	lc.hashMask = 0 // every key hashes to 0
	storeCode(lc, "first", 1)
	if l, ok := lookup(lc, "second"); ok {
		t.Fatalf("second, never stored, gives %+v", l)
	}
	storeCode(lc, "second", 1)
	if l, ok := lookup(lc, "first"); ok {
		t.Fatalf("first, whose slot second took, gives %+v", l)
	}
	lc.drop(key{domain: "go.example.com", code: "first"}, 5)
	if l, ok := lookup(lc, "second"); !ok || l.Target != codeTarget("second") || l.Code != "second" {
		t.Fatalf("second after first was dropped: %+v, %v", l, ok)
	}
	if l, ok := lookup(lc, "first"); ok {
		t.Fatalf("first gives %+v", l)
	}
	lc.store(key{domain: "other.example.com", code: "second"}, links.Link{Target: "https://other.example.com/", RedirectType: http.StatusFound, Version: 1}, snapshot{})
	if l, ok := lookup(lc, "second"); ok {
		t.Fatalf("second on go.example.com gives %+v after the same code on another domain took its slot", l)
	}
}

// Versions never go back, drop removes only older versions, the TTL is hard, a flush empties
// the cache, and a fill an invalidation overtook is refused.
func TestLocalCacheVersionsTTLAndGuard(t *testing.T) {
	t.Parallel()
	clock := &manualClock{}
	guardClock := otter.NewCoarseClock(clockResolution)
	t.Cleanup(guardClock.Stop)
	g := newGuard(1000, time.Minute, guardClock)
	lc := newLocalCache(1<<20, time.Minute, g, clock)
	k := key{domain: "go.example.com", code: "v"}
	storeCode(lc, "v", 2)
	storeCode(lc, "v", 1)
	if l, _ := lookup(lc, "v"); l.Version != 2 {
		t.Errorf("after version 2 then 1: version %d, want 2", l.Version)
	}
	lc.drop(k, 2)
	if l, ok := lookup(lc, "v"); !ok || l.Version != 2 {
		t.Errorf("drop of versions before 2 removed version 2: %+v, %v", l, ok)
	}
	lc.drop(k, 3)
	if _, ok := lookup(lc, "v"); ok {
		t.Error("drop of versions before 3 kept version 2")
	}

	storeCode(lc, "v", 3)
	clock.now.Add(int64(time.Minute) - 1)
	if _, ok := lookup(lc, "v"); !ok {
		t.Error("expired before its TTL")
	}
	clock.now.Add(1)
	if _, ok := lookup(lc, "v"); ok {
		t.Error("served after its TTL")
	}
	storeCode(lc, "v", 3) // the expired entry no longer counts
	if _, ok := lookup(lc, "v"); !ok {
		t.Error("not stored again after it expired")
	}
	lc.flush()
	if _, ok := lookup(lc, "v"); ok || lc.entries() != 0 || lc.bytes() != 0 {
		t.Errorf("after a flush: found %v, %d entries, %d bytes", ok, lc.entries(), lc.bytes())
	}

	s := g.snapshot(k)
	g.raise(k, 5)
	lc.store(k, links.Link{Target: codeTarget("v"), RedirectType: http.StatusFound, Version: 4}, s)
	if l, ok := lookup(lc, "v"); ok {
		t.Errorf("a fill of version 4 overtaken by an invalidation at 5 was stored: %+v", l)
	}
}

// Reads, fills, drops and flushes from many goroutines at once into a cache small enough to
// evict all the time: every hit is its own key's link. Run under -race.
func TestLocalCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	lc := testLocalCache(t, 256<<10)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 20_000 {
				code := fmt.Sprintf("c%d", (i*7+w)%3000)
				switch {
				case i%997 == 0 && w == 0:
					lc.flush()
				case i%5 == 0:
					lc.drop(key{domain: "go.example.com", code: code}, int64(i))
				case i%2 == 0:
					storeCode(lc, code, int64(i))
				default:
					if l, ok := lookup(lc, code); ok && (l.Code != code || l.Target != codeTarget(code)) {
						errs <- fmt.Sprintf("%s gives %+v", code, l)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if lc.bytes() > 256<<10 {
		t.Errorf("weighs %d bytes, over its bound", lc.bytes())
	}
}
