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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// haClientOptions are generous: these tests prove routing and scripts, not timeouts, on a
// machine that may be busy.
var haClientOptions = cache.ClientOptions{Name: "ha-test", DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}

func newUniversal(t *testing.T, url string) redis.UniversalClient {
	t.Helper()
	rdb, err := cache.NewUniversalClient(url, haClientOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestCacheOnRedisSentinel(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{RedisSentinel: &localenv.RedisSentinelOptions{Password: "sentinel-test"}})
	rdb := newUniversal(t, env.RedisSentinel.URL())
	if _, ok := rdb.(*redis.Client); !ok {
		t.Fatalf("a redis-sentinel URL made a %T", rdb)
	}
	// Every redirector subscribes through its own client; all of them reach the master.
	subscribers := []redis.UniversalClient{newUniversal(t, env.RedisSentinel.URL()), newUniversal(t, env.RedisSentinel.URL())}
	exerciseCache(t, rdb, subscribers)
}

func TestCacheOnRedisCluster(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{RedisCluster: &localenv.RedisClusterOptions{Password: "cluster-test"}})
	rdb := newUniversal(t, env.RedisCluster.URL())
	cluster, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("a redis-cluster URL made a %T", rdb)
	}
	// Subscribers connected to each node in turn, as redirectors may be: classic PUBLISH is
	// broadcast over the cluster bus, so each must receive what is published on any node.
	subscribers := make([]redis.UniversalClient, 0, 1+len(env.RedisCluster.Nodes))
	subscribers = append(subscribers, newUniversal(t, env.RedisCluster.URL()))
	for _, n := range env.RedisCluster.Nodes {
		subscribers = append(subscribers, newUniversal(t, n.URL()))
	}
	exerciseCache(t, rdb, subscribers)

	t.Run("keys are spread over every master", func(t *testing.T) {
		err := cluster.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
			n, err := c.DBSize(ctx).Result()
			if err == nil && n == 0 {
				err = fmt.Errorf("master %s holds no key", c.Options().Addr)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// haLinks are enough links, over two domains, for their keys to land in every slot range.
func haLinks(version int64) []links.Link {
	ls := make([]links.Link, 0, 60)
	for i := range 60 {
		domain := ""
		if i%2 == 1 {
			domain = "go.example.com"
		}
		ls = append(ls, links.Link{Domain: domain, Code: fmt.Sprintf("ha-%d", i),
			Target: fmt.Sprintf("https://example.com/%d", i), RedirectType: 302, Version: version})
	}
	return ls
}

// exerciseCache runs every script and command of the package through rdb: each script keeps
// its one key, so in a cluster each call goes whole to the node that holds the key's slot,
// and a script that touched two slots would fail with CROSSSLOT here.
func exerciseCache(t *testing.T, rdb redis.UniversalClient, subscribers []redis.UniversalClient) {
	ctx := context.Background()
	c := cache.New(rdb, cache.Options{})
	t.Run("set, get and delete", func(t *testing.T) { testSetGetDelete(ctx, t, c) })
	t.Run("heal in one pipeline over every node, also after SCRIPT FLUSH", func(t *testing.T) { testHeal(ctx, t, rdb, c) })
	t.Run("repair", func(t *testing.T) { testRepair(ctx, t, c) })
	t.Run("heal cursor", func(t *testing.T) { testHealCursor(ctx, t, c) })
	t.Run("rate limits", func(t *testing.T) { testRateLimits(ctx, t, rdb) })
	t.Run("invalidations reach every subscriber", func(t *testing.T) { testInvalidations(ctx, t, c, subscribers) })
}

// flushScripts empties the script cache of every master rdb writes to.
func flushScripts(ctx context.Context, t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	var err error
	if cluster, ok := rdb.(*redis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ScriptFlush(ctx).Err() })
	} else {
		err = rdb.ScriptFlush(ctx).Err()
	}
	if err != nil {
		t.Fatalf("script flush: %v", err)
	}
}

// testSetGetDelete writes links over every slot range, reads them back, refuses an older
// version and leaves a tombstone.
func testSetGetDelete(ctx context.Context, t *testing.T, c *cache.Cache) {
	for _, l := range haLinks(10) {
		if written, err := c.Set(ctx, l); err != nil || !written {
			t.Fatalf("Set(%s) = %v, %v", l.Code, written, err)
		}
		e, err := c.Get(ctx, l.Domain, l.Code)
		if err != nil || e.Link.Target != l.Target || e.Link.Version != 10 {
			t.Fatalf("Get(%s) = %+v, %v", l.Code, e, err)
		}
		if written, err := c.Set(ctx, links.Link{Domain: l.Domain, Code: l.Code, Target: "https://old.example/", RedirectType: 302, Version: 9}); err != nil || written {
			t.Fatalf("Set of an older version = %v, %v; want refused", written, err)
		}
	}
	l := haLinks(10)[3]
	if written, err := c.Delete(ctx, l.Domain, l.Code, 11); err != nil || !written {
		t.Fatalf("Delete = %v, %v", written, err)
	}
	if e, err := c.Get(ctx, l.Domain, l.Code); err != nil || !e.Deleted || e.Link.Version != 11 {
		t.Fatalf("Get after Delete = %+v, %v; want a tombstone at 11", e, err)
	}
	if _, err := c.Get(ctx, "", "never-set"); !errors.Is(err, links.ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
}

// testHeal heals two rounds of newer versions in one pipeline each, the second after every
// master forgot the script.
func testHeal(ctx context.Context, t *testing.T, rdb redis.UniversalClient, c *cache.Cache) {
	for _, version := range []int64{20, 21} {
		entries := make([]cache.Entry, 0, 60)
		for _, l := range haLinks(version) {
			entries = append(entries, cache.Entry{Link: l})
		}
		written, err := c.Heal(ctx, entries)
		if err != nil {
			t.Fatalf("Heal at %d: %v", version, err)
		}
		for i, w := range written {
			if !w {
				t.Fatalf("Heal at %d did not write %s", version, entries[i].Link.Code)
			}
			if v, err := rdb.Get(ctx, "shortlink:link:"+entries[i].Link.Domain+":"+entries[i].Link.Code).Result(); err != nil || v[:3] != fmt.Sprint(version)+"|" {
				t.Fatalf("key of %s = %q, %v; want version %d", entries[i].Link.Code, v, err, version)
			}
		}
		flushScripts(ctx, t, rdb) // the next round must load the script again, on every node
	}
}

// testRepair overwrites the same version but never a newer one.
func testRepair(ctx context.Context, t *testing.T, c *cache.Cache) {
	l := haLinks(21)[5]
	l.Target = "https://repaired.example/"
	if written, err := c.Repair(ctx, l); err != nil || !written {
		t.Fatalf("Repair at the same version = %v, %v; want written", written, err)
	}
	l.Version = 20
	if written, err := c.Repair(ctx, l); err != nil || written {
		t.Fatalf("Repair at an older version = %v, %v; want refused", written, err)
	}
	if e, err := c.Get(ctx, l.Domain, l.Code); err != nil || e.Link.Target != "https://repaired.example/" {
		t.Fatalf("Get after Repair = %+v, %v", e, err)
	}
}

// testHealCursor only ever raises the cursor.
func testHealCursor(ctx context.Context, t *testing.T, c *cache.Cache) {
	for _, txid := range []int64{500, 300} {
		if err := c.AdvanceHealCursor(ctx, txid); err != nil {
			t.Fatal(err)
		}
	}
	if txid, ok, err := c.HealCursor(ctx); err != nil || !ok || txid != 500 {
		t.Fatalf("HealCursor = %d, %v, %v; want 500", txid, ok, err)
	}
}

// testRateLimits allows each bucket its burst, decided in Redis, over keys on every node.
func testRateLimits(ctx context.Context, t *testing.T, rdb redis.UniversalClient) {
	rl := cache.NewRateLimiter(rdb, cache.RateLimiterOptions{Timeout: 5 * time.Second})
	for k := range 10 {
		key := fmt.Sprintf("ip:192.0.2.%d", k)
		for i := range 4 {
			d, err := rl.Allow(ctx, key, slow(3))
			if err != nil || d.Local || d.Allowed != (i < 3) {
				t.Fatalf("%s request %d = %+v, %v; want decided in Redis, allowed only within the burst of 3", key, i+1, d, err)
			}
		}
	}
}

// testInvalidations publishes through the cache and waits for every subscriber to hear it.
func testInvalidations(ctx context.Context, t *testing.T, c *cache.Cache, subscribers []redis.UniversalClient) {
	subs := make([]*cache.Subscriber, 0, len(subscribers))
	for _, s := range subscribers {
		sub := cache.New(s, cache.Options{}).Subscribe(ctx)
		t.Cleanup(func() { _ = sub.Close() })
		awaitResync(t, sub)
		subs = append(subs, sub)
	}
	for _, inv := range []cache.Invalidation{{Domain: "go.example.com", Code: "ha-1", Version: 30}, {Code: "ha-2", Version: 31}} {
		if err := c.Publish(ctx, inv); err != nil {
			t.Fatal(err)
		}
		for i, sub := range subs {
			if got := awaitInvalidation(t, sub); got != inv {
				t.Fatalf("subscriber %d received %+v, want %+v", i, got, inv)
			}
		}
	}
}
