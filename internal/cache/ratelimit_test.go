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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// slow refills one request in 1000 s, so no test sees a refill: decisions depend on counts only.
func slow(burst int) cache.Limit { return cache.Limit{Rate: 0.001, Burst: burst} }

// newTestLimiter returns a limiter on a fresh client of the shared, empty Redis, with a timeout
// generous enough that a loaded machine never makes it fall back by accident.
func newTestLimiter(t *testing.T, opts cache.RateLimiterOptions) (*cache.RateLimiter, *redis.Client) {
	t.Helper()
	r := testRedis(t)
	rdb, err := cache.NewClient(r.URL(), cache.ClientOptions{Name: "ratelimit-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	return cache.NewRateLimiter(rdb, opts), rdb
}

func allow(t *testing.T, rl *cache.RateLimiter, key string, l cache.Limit) cache.Decision {
	t.Helper()
	d, err := rl.Allow(context.Background(), key, l)
	if err != nil {
		t.Fatalf("Allow(%s): %v", key, err)
	}
	return d
}

func TestRateLimiterAllowsTheBurstThenRefuses(t *testing.T) {
	ctx := context.Background()
	rl, rdb := newTestLimiter(t, cache.RateLimiterOptions{})
	for i := range 5 {
		d := allow(t, rl, "ip:192.0.2.1", slow(5))
		if !d.Allowed || d.Limit != 5 || d.Remaining != 4-i || d.Local || d.RetryAfter != 0 {
			t.Fatalf("request %d: %+v; want allowed by Redis, limit 5, remaining %d", i+1, d, 4-i)
		}
	}
	d := allow(t, rl, "ip:192.0.2.1", slow(5))
	if d.Allowed || d.Remaining != 0 || d.Limit != 5 || d.RetryAfter <= 0 || d.ResetAfter < d.RetryAfter || d.Local {
		t.Fatalf("request 6: %+v; want refused by Redis with a retry time", d)
	}
	if d := allow(t, rl, "ip:192.0.2.2", slow(5)); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("another key: %+v; want a bucket of its own", d)
	}

	// The bucket lives until it is full again: 5 requests of 1000 s each, less the time passed.
	ttl, err := rdb.PTTL(ctx, cache.RateLimitKeyPrefix+"ip:192.0.2.1").Result()
	if err != nil || ttl <= 4000*time.Second || ttl > 5000*time.Second {
		t.Fatalf("bucket TTL = %v, %v; want just under 5000s", ttl, err)
	}
}

func TestRateLimiterDisabledLimitAllowsAndStoresNothing(t *testing.T) {
	rl, rdb := newTestLimiter(t, cache.RateLimiterOptions{})
	for range 3 {
		if d := allow(t, rl, "k", cache.Limit{Rate: 0, Burst: 1}); !d.Allowed {
			t.Fatalf("rate 0 refused: %+v", d)
		}
	}
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Fatalf("redis holds %d keys, %v; want none", n, err)
	}
}

// Two limiters with clients of their own, as two replicas have, share one bucket: together they
// allow the burst, not twice it, however the requests interleave.
func TestRateLimiterIsSharedAcrossReplicas(t *testing.T) {
	a, _ := newTestLimiter(t, cache.RateLimiterOptions{Replicas: 2})
	b, _ := newTestLimiter(t, cache.RateLimiterOptions{Replicas: 2})
	const burst, requests = 10, 60
	var allowed, local atomic.Int32
	var wg sync.WaitGroup
	for i := range requests {
		rl := a
		if i%2 == 1 {
			rl = b
		}
		wg.Go(func() {
			d, err := rl.Allow(context.Background(), "key:ci", slow(burst))
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
			if d.Local {
				local.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != burst || local.Load() != 0 {
		t.Fatalf("%d allowed (%d locally) of %d; want exactly the burst, %d, all by Redis", allowed.Load(), local.Load(), requests, burst)
	}
}

// The script and the local limiter follow one rule: the same requests get the same answers.
func TestRateLimiterLocalAndRedisAgree(t *testing.T) {
	rl, _ := newTestLimiter(t, cache.RateLimiterOptions{})
	local := cache.NewRateLimiter(nil, cache.RateLimiterOptions{})
	for _, burst := range []int{1, 3, 8} {
		for i := range burst + 2 {
			r, l := allow(t, rl, "agree", slow(burst)), allow(t, local, "agree", slow(burst))
			if r.Allowed != l.Allowed || r.Remaining != l.Remaining || r.Limit != l.Limit || r.Local || !l.Local {
				t.Fatalf("burst %d, request %d: Redis %+v, local %+v", burst, i+1, r, l)
			}
		}
		_ = testRedis(t) // empty buckets for the next burst
		local = cache.NewRateLimiter(nil, cache.RateLimiterOptions{})
	}
}

// testClock is a settable clock; the local limiter's cache reads it from a goroutine of its own.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// The local limiter on a test clock: refills happen exactly when GCRA says.
func TestLocalLimiterRefills(t *testing.T) {
	clock := newTestClock()
	rl := cache.NewRateLimiter(nil, cache.RateLimiterOptions{Now: clock.Now})
	l := cache.Limit{Rate: 2, Burst: 3} // one request every 500 ms
	for i := range 3 {
		if d := allow(t, rl, "k", l); !d.Allowed || d.Remaining != 2-i || d.ResetAfter != time.Duration(i+1)*500*time.Millisecond {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	if d := allow(t, rl, "k", l); d.Allowed || d.RetryAfter != 500*time.Millisecond || d.ResetAfter != 1500*time.Millisecond {
		t.Fatalf("request 4: %+v; want refused, retry after 500ms, full after 1.5s", d)
	}
	clock.Add(499 * time.Millisecond)
	if d := allow(t, rl, "k", l); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("1ms early: %+v; want refused for 1ms more", d)
	}
	clock.Add(time.Millisecond)
	if d := allow(t, rl, "k", l); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v; want one request allowed", d)
	}
	clock.Add(time.Hour)
	if d := allow(t, rl, "k", l); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("after an hour: %+v; want a full bucket", d)
	}
}

func TestLocalLimitIsAShareOfTheGlobalLimit(t *testing.T) {
	for _, tc := range []struct {
		replicas, burst, want int
	}{
		{1, 10, 10}, {2, 10, 5}, {3, 10, 4}, {4, 10, 3}, {100, 10, 1},
	} {
		rl := cache.NewRateLimiter(nil, cache.RateLimiterOptions{Replicas: tc.replicas})
		n := 0
		for allow(t, rl, "k", slow(tc.burst)).Allowed {
			n++
		}
		if n != tc.want {
			t.Errorf("%d replicas, burst %d: %d allowed locally, want %d", tc.replicas, tc.burst, n, tc.want)
		}
	}
	// The rate is divided too, down to a floor: 1000 replicas of 5/s still refill locally.
	rl := cache.NewRateLimiter(nil, cache.RateLimiterOptions{Replicas: 1000, Now: newTestClock().Now})
	l := cache.Limit{Rate: 5, Burst: 1}
	allow(t, rl, "k", l)
	if d := allow(t, rl, "k", l); d.Allowed || d.RetryAfter != 100*time.Second {
		t.Fatalf("second request: %+v; want a retry after 1/MinLocalRate = 100s", d)
	}
}

// With Redis down every decision is local — limit/replicas, no error — and once Redis answers
// again the limiter goes back to it.
func TestRateLimiterFallsBackWhileRedisIsDown(t *testing.T) {
	r := testRedis(t)
	var changes []bool
	var mu sync.Mutex
	rl, _ := newTestLimiter(t, cache.RateLimiterOptions{
		Replicas: 2, CoolDown: 50 * time.Millisecond,
		OnRedisChange: func(up bool) { mu.Lock(); changes = append(changes, up); mu.Unlock() },
	})
	if d := allow(t, rl, "k", slow(10)); !d.Allowed || d.Local {
		t.Fatalf("with Redis up: %+v", d)
	}

	start := localenv.StopForTest(t, r)
	allowed := 0
	for range 20 {
		d := allow(t, rl, "k", slow(10))
		if !d.Local {
			t.Fatalf("with Redis down: %+v; want a local decision", d)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d allowed locally, want 5 (burst 10 / 2 replicas)", allowed)
	}

	start()
	eventually(t, "decisions in Redis again", func() bool { return !allow(t, rl, "k", slow(10)).Local })
	// Redis came back empty: the shared bucket starts full again.
	if d := allow(t, rl, "k", slow(10)); !d.Allowed || d.Local || d.Remaining != 8 {
		t.Fatalf("after Redis returned: %+v; want the second request of a fresh shared bucket", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Fatalf("OnRedisChange saw %v, want [false true]", changes)
	}
}

func TestRateLimiterFallsBackOnAStalledRedis(t *testing.T) {
	ctx := context.Background()
	rl, rdb := newTestLimiter(t, cache.RateLimiterOptions{Timeout: 100 * time.Millisecond})
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatalf("pause redis: %v", err)
	}
	if d := allow(t, rl, "stalled", slow(3)); !d.Allowed || !d.Local {
		t.Fatalf("with Redis stalled: %+v; want a local decision", d)
	}
}

func TestRateLimiterReportsACancelledCaller(t *testing.T) {
	rl, _ := newTestLimiter(t, cache.RateLimiterOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rl.Allow(ctx, "k", slow(3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a cancelled context = %v, want context.Canceled", err)
	}
	if d := allow(t, rl, "k", slow(3)); d.Local || !d.Allowed {
		t.Fatalf("after a cancelled call: %+v; want Redis still in use", d)
	}
}

// AllowN takes n requests or none, in Redis and in the local fallback alike: a refused charge
// leaves the bucket as it was, and more than the burst is never allowed.
func TestRateLimiterAllowNTakesAllOrNothing(t *testing.T) {
	redisBacked, _ := newTestLimiter(t, cache.RateLimiterOptions{})
	for name, rl := range map[string]*cache.RateLimiter{
		"redis": redisBacked, "local": cache.NewRateLimiter(nil, cache.RateLimiterOptions{}),
	} {
		ctx := context.Background()
		take := func(n int) cache.Decision {
			t.Helper()
			d, err := rl.AllowN(ctx, "key:batch", slow(10), n)
			if err != nil {
				t.Fatalf("%s: AllowN(%d): %v", name, n, err)
			}
			return d
		}
		if d := take(11); d.Allowed {
			t.Fatalf("%s: 11 of a burst of 10 allowed: %+v", name, d)
		}
		if d := take(7); !d.Allowed || d.Remaining != 3 {
			t.Fatalf("%s: 7 of 10 = %+v; want allowed, 3 remaining", name, d)
		}
		if d := take(4); d.Allowed || d.RetryAfter <= 0 {
			t.Fatalf("%s: 4 with 3 left = %+v; want refused with a retry time", name, d)
		}
		if d := take(3); !d.Allowed || d.Remaining != 0 {
			t.Fatalf("%s: the 3 left after a refusal = %+v; want allowed, 0 remaining", name, d)
		}
	}
}
