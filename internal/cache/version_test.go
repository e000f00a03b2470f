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
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// state is what the cache holds for the test key: nothing, a link, or a tombstone.
type state struct {
	version int64
	deleted bool
	target  string
}

func TestWritesNeverReplaceANewerVersion(t *testing.T) {
	const code = "k"
	link := func(v int64, target string) links.Link {
		return links.Link{Code: code, Target: target, RedirectType: 302, Version: v}
	}
	set := func(v int64, target string) func(context.Context, *cache.Cache) (bool, error) {
		return func(ctx context.Context, c *cache.Cache) (bool, error) { return c.Set(ctx, link(v, target)) }
	}
	del := func(v int64) func(context.Context, *cache.Cache) (bool, error) {
		return func(ctx context.Context, c *cache.Cache) (bool, error) { return c.Delete(ctx, "", code, v) }
	}
	const old, cur = "https://old.example/", "https://new.example/"
	for _, tc := range []struct {
		name        string
		before      []func(context.Context, *cache.Cache) (bool, error)
		write       func(context.Context, *cache.Cache) (bool, error)
		wantWritten bool
		want        state
	}{
		{"set on empty", nil, set(5, cur), true, state{5, false, cur}},
		{"older set refused", steps(set(5, old)), set(4, cur), false, state{5, false, old}},
		{"equal set not rewritten", steps(set(5, old)), set(5, cur), false, state{5, false, old}},
		{"newer set wins", steps(set(5, old)), set(6, cur), true, state{6, false, cur}},
		{"more digits is newer", steps(set(9, old)), set(10, cur), true, state{10, false, cur}},
		{"fewer digits is older", steps(set(10, old)), set(9, cur), false, state{10, false, old}},
		{"exact past 2^53", steps(set(9007199254740992, old)), set(9007199254740993, cur), true, state{9007199254740993, false, cur}},
		{"delete on empty", nil, del(5), true, state{5, true, ""}},
		{"delete tombstones", steps(set(5, old)), del(6), true, state{6, true, ""}},
		{"older delete refused", steps(set(5, old)), del(4), false, state{5, false, old}},
		{"older set after delete refused", steps(set(5, old), del(6)), set(5, old), false, state{6, true, ""}},
		{"equal set after delete refused", steps(del(6)), set(6, cur), false, state{6, true, ""}},
		{"newer set after delete wins", steps(set(5, old), del(6)), set(7, cur), true, state{7, false, cur}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c, _ := newTestCache(t, cache.Options{})
			for _, step := range tc.before {
				if _, err := step(ctx, c); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			written, err := tc.write(ctx, c)
			if err != nil || written != tc.wantWritten {
				t.Fatalf("write = %v, %v; want %v, nil", written, err, tc.wantWritten)
			}
			if got := stored(ctx, t, c, code); got != tc.want {
				t.Fatalf("cache holds %+v, want %+v", got, tc.want)
			}
		})
	}
}

func steps(s ...func(context.Context, *cache.Cache) (bool, error)) []func(context.Context, *cache.Cache) (bool, error) {
	return s
}

func stored(ctx context.Context, t *testing.T, c *cache.Cache, code string) state {
	t.Helper()
	e, err := c.Get(ctx, "", code)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return state{e.Link.Version, e.Deleted, e.Link.Target}
}

func TestConcurrentSetsKeepTheHighestVersion(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(t, cache.Options{})
	const writers = 50
	versions := make([]int64, writers)
	var highest int64
	for i := range versions {
		versions[i] = rand.Int64N(1_000_000) + 1 //nolint:gosec // test data, not a secret
		highest = max(highest, versions[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for _, v := range versions {
		wg.Go(func() {
			_, err := c.Set(ctx, links.Link{Code: "hot", Target: "https://example.com/", Version: v})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Set: %v", err)
		}
	}
	if got := stored(ctx, t, c, "hot"); got.version != highest || got.deleted {
		t.Fatalf("cache holds %+v, want version %d of %v", got, highest, versions)
	}
}
