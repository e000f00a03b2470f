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

package manifests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// Limits of the fill: the Redis under test gets fillMaxMemory, and the fill writes at most
// fillPages pages of fillPage entries of about 1 KB, over ten times that memory, so an
// evicting policy has to evict, and the test stops by itself either way.
const (
	fillMaxMemory = "4mb"
	fillPages     = 100
	fillPage      = 500
	tombstones    = 200
)

// The evaluation Redis, run with the arguments the manifests give it but a small maxmemory,
// keeps every tombstone when it is full: it refuses new writes (OOM) rather than evicting keys
// that stop a deleted link from coming back. Reads go on.
func TestEvaluationRedisKeepsTombstonesWhenFull(t *testing.T) {
	for _, name := range []string{kustomizeEvaluation, helmAllOn} {
		t.Run(name, func(t *testing.T) {
			args := redisArgs(t, render(t, name))
			env := localenv.ForTest(t, localenv.Options{Redis: true, RedisArgs: args})
			rdb := redis.NewClient(&redis.Options{Addr: env.Redis.Addr()})
			t.Cleanup(func() { _ = rdb.Close() })
			c := cache.New(rdb, cache.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			for i := range tombstones {
				if _, err := c.Delete(ctx, "", fmt.Sprintf("gone-%d", i), int64(i+1)); err != nil {
					t.Fatalf("write tombstone %d: %v", i, err)
				}
			}
			full := fill(t, ctx, c)
			for i := range tombstones {
				e, err := c.Get(ctx, "", fmt.Sprintf("gone-%d", i))
				if err != nil || !e.Deleted || e.Link.Version != int64(i+1) {
					t.Fatalf("tombstone %d after filling Redis = %+v, %v; want it kept", i, e, err)
				}
			}
			if full == nil {
				t.Fatalf("wrote %d entries of 1 KB into a %s Redis without an OOM error: it evicts",
					fillPages*fillPage, fillMaxMemory)
			}
		})
	}
}

// redisArgs returns the redis-server options of a rendering's Redis, without the password
// (the test connects without one) and with maxmemory made small.
func redisArgs(t *testing.T, r *rendering) []string {
	t.Helper()
	var c map[string]any
	for _, ct := range containers(t, r.component(t, "redis")) {
		if ct["name"] == "redis" {
			c = ct
		}
	}
	raw, _ := c["args"].([]any)
	var args []string
	sawMaxMemory := false
	for i := 0; i < len(raw); i++ {
		a, _ := raw[i].(string)
		switch {
		case i == 0 && a == "redis-server":
		case a == "--requirepass":
			i++
		case a == "--maxmemory":
			args = append(args, a, fillMaxMemory)
			sawMaxMemory = true
			i++
		default:
			args = append(args, a)
		}
	}
	if !sawMaxMemory {
		t.Fatalf("%s: the Redis has no --maxmemory (%q); unbounded, it would grow until killed", r.name, args)
	}
	return args
}

// fill writes link entries with TTLs, as redirectors fill Redis, a page per round trip, until
// Redis refuses one for memory, and returns that refusal, or nil if it never came.
func fill(t *testing.T, ctx context.Context, c *cache.Cache) error {
	t.Helper()
	pad := strings.Repeat("x", 1000)
	for p := range fillPages {
		entries := make([]cache.Entry, fillPage)
		for i := range entries {
			code := fmt.Sprintf("fill-%d-%d", p, i)
			entries[i] = cache.Entry{Link: links.Link{Code: code, Target: "https://example.com/" + pad,
				RedirectType: 302, Source: links.SourceAPI, Version: 1}}
		}
		_, err := c.Heal(ctx, entries)
		switch {
		case err != nil && strings.Contains(err.Error(), "OOM"):
			return err
		case err != nil:
			t.Fatalf("fill page %d: %v", p, err)
		}
	}
	return nil
}
