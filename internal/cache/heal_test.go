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

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// A page healed in one pipeline must leave Redis as Set and Delete, one entry at a time, leave
// it: newer versions win, older and equal ones are refused, tombstones included, and entries for
// the same key apply in page order.
func TestHealWritesWhatSetAndDeleteWouldWrite(t *testing.T) {
	ctx := context.Background()
	opts := cache.Options{TTL: time.Hour, TombstoneTTL: time.Minute}
	set := func(code string, v int64, target string) cache.Entry {
		return cache.Entry{Link: links.Link{Code: code, Target: target, RedirectType: 302, Tags: []string{code}, Version: v}}
	}
	del := func(code string, v int64) cache.Entry {
		return cache.Entry{Link: links.Link{Code: code, Version: v}, Deleted: true}
	}
	const old, cur = "https://old.example/", "https://new.example/"
	before := []cache.Entry{
		set("newer", 5, old), set("older", 5, old), set("equal", 5, old), set("digits", 9, old),
		set("tomb", 5, old), set("oldtomb", 5, old), del("aftertomb", 6), del("revive", 6), del("equaltomb", 6),
	}
	page := []cache.Entry{
		set("newer", 6, cur), set("older", 4, cur), set("equal", 5, cur), set("digits", 10, cur),
		del("tomb", 6), del("oldtomb", 4), set("aftertomb", 6, cur), set("revive", 7, cur), del("equaltomb", 6),
		set("empty", 3, cur), del("emptytomb", 3), set("handmade", 2, cur),
		set("twice", 8, cur), set("twice", 7, old), del("twice", 9), set("twice", 9, cur),
		{Link: links.Link{Domain: "go.example.com", Code: "newer", Target: cur, RedirectType: 301, Version: 11}},
	}
	prepare := func(c *cache.Cache, rdb *redis.Client) {
		t.Helper()
		if _, err := c.Heal(ctx, before); err != nil {
			t.Fatalf("setup: %v", err)
		}
		if err := rdb.Set(ctx, key("", "handmade"), "no version here", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	c, rdb := newTestCache(t, opts)
	prepare(c, rdb)
	oneByOne := make([]bool, len(page))
	for i, e := range page {
		var err error
		if e.Deleted {
			oneByOne[i], err = c.Delete(ctx, e.Link.Domain, e.Link.Code, e.Link.Version)
		} else {
			oneByOne[i], err = c.Set(ctx, e.Link)
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	want := snapshot(ctx, t, rdb)

	c, rdb = newTestCache(t, opts)
	prepare(c, rdb)
	written, err := c.Heal(ctx, page)
	if err != nil {
		t.Fatalf("Heal: %v", err)
	}
	if !reflect.DeepEqual(written, oneByOne) {
		t.Errorf("Heal wrote %v; one by one wrote %v", written, oneByOne)
	}
	if got := snapshot(ctx, t, rdb); !sameSnapshot(got, want) {
		t.Errorf("Redis after Heal:\n%v\nafter Set and Delete one by one:\n%v", got, want)
	}
}

// keyState is one key's raw value and remaining lifetime.
type keyState struct {
	value string
	ttl   time.Duration
}

func (s keyState) String() string { return fmt.Sprintf("%q (ttl %v)", s.value, s.ttl) }

func snapshot(ctx context.Context, t *testing.T, rdb *redis.Client) map[string]keyState {
	t.Helper()
	keys, err := rdb.Keys(ctx, cache.KeyPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	s := make(map[string]keyState, len(keys))
	for _, k := range keys {
		v, err := rdb.Get(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		s[k] = keyState{v, ttl}
	}
	return s
}

// sameSnapshot compares values exactly and lifetimes to within the test's running time.
func sameSnapshot(a, b map[string]keyState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.value != y.value || (x.ttl-y.ttl).Abs() > 10*time.Second {
			return false
		}
	}
	return true
}

// After SCRIPT FLUSH (or a restart) Redis no longer knows the script by its hash; Heal must load
// it and still write the page.
func TestHealAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	if _, err := c.Set(ctx, links.Link{Code: "first", Target: "https://example.com/", Version: 1}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		page := []cache.Entry{
			{Link: links.Link{Code: "first", Target: "https://example.com/2", Version: int64(2 + round)}},
			{Link: links.Link{Code: "gone", Version: int64(3 + round)}, Deleted: true},
		}
		written, err := c.Heal(ctx, page)
		if err != nil || !reflect.DeepEqual(written, []bool{true, true}) {
			t.Fatalf("round %d: Heal after SCRIPT FLUSH = %v, %v; want [true true], nil", round, written, err)
		}
		if got := stored(ctx, t, c, "first"); got.version != int64(2+round) {
			t.Fatalf("round %d: first holds %+v", round, got)
		}
		if got := stored(ctx, t, c, "gone"); !got.deleted || got.version != int64(3+round) {
			t.Fatalf("round %d: gone holds %+v", round, got)
		}
	}
}

// An entry Set or Delete would refuse is skipped and named in the error; the rest of the page is
// written all the same.
func TestHealSkipsInvalidEntries(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(t, cache.Options{})
	written, err := c.Heal(ctx, []cache.Entry{
		{Link: links.Link{Code: "bad:code", Target: "https://example.com/", Version: 1}},
		{Link: links.Link{Code: "zero", Version: 0}, Deleted: true},
		{Link: links.Link{Code: "good", Target: "https://example.com/", Version: 1}},
	})
	if !errors.Is(err, links.ErrInvalidCode) || !strings.Contains(err.Error(), "not positive") {
		t.Fatalf("Heal error = %v; want the invalid code and the version that is not positive", err)
	}
	if cache.IsUnavailable(err) {
		t.Fatalf("invalid entries reported as unavailability: %v", err)
	}
	if !reflect.DeepEqual(written, []bool{false, false, true}) {
		t.Fatalf("written = %v; want [false false true]", written)
	}
	if got := stored(ctx, t, c, "good"); got.version != 1 {
		t.Fatalf("good holds %+v", got)
	}
}

func TestHealWithRedisDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(t, cache.Options{})
	page := []cache.Entry{{Link: links.Link{Code: "down", Target: "https://example.com/", Version: 1}}}
	start := localenv.StopForTest(t, testRedis(t))
	if _, err := c.Heal(ctx, page); !cache.IsUnavailable(err) {
		t.Fatalf("Heal with Redis down = %v; want an unavailability error", err)
	}
	start()
	eventually(t, "Heal to write again", func() bool {
		written, err := c.Heal(ctx, page)
		return err == nil && written[0]
	})
}
