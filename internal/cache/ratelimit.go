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

package cache

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RateLimitKeyPrefix starts the key of every rate-limit bucket: "shortlink:rl:<key>".
const RateLimitKeyPrefix = "shortlink:rl:"

// Rate limiter defaults.
const (
	// DefaultRateLimitTimeout bounds one decision in Redis. A limiter that waits longer than the
	// request it guards is worse than the local limiter, which answers at once.
	DefaultRateLimitTimeout = 100 * time.Millisecond
	// DefaultRateLimitCoolDown is how long the limiter stays local after Redis failed, before
	// one call probes Redis again.
	DefaultRateLimitCoolDown = time.Second
	// DefaultLocalRateLimitKeys bounds the local limiter's buckets (about 100 bytes each).
	DefaultLocalRateLimitKeys = 65536
	// MinLocalRate is the lowest rate the local limiter divides a limit down to, so that many
	// replicas never turn a limit into a refusal of everything.
	MinLocalRate = 0.01
)

// Limit is a GCRA limit: Rate requests a second on average, and up to Burst at once after a
// quiet spell. A Rate of zero or less means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// Disabled reports whether l limits nothing.
func (l Limit) Disabled() bool { return l.Rate <= 0 || math.IsNaN(l.Rate) }

// Bounds that keep the arithmetic of a bucket (now + Burst intervals) far from overflowing.
const (
	// maxInterval makes a Rate below one request an hour act as one an hour.
	maxInterval = time.Hour
	// maxBurst caps Burst.
	maxBurst = 1 << 20
)

// interval is the time one request uses up: 1/Rate, a multiple of res within [res, maxInterval].
func (l Limit) interval(res time.Duration) time.Duration {
	ns := float64(time.Second) / l.Rate
	switch {
	case ns <= float64(res):
		return res
	case ns >= float64(maxInterval):
		return maxInterval
	}
	return max(time.Duration(ns).Round(res), res)
}

func (l Limit) burst() int { return min(max(l.Burst, 1), maxBurst) }

// Decision is the answer to one request.
type Decision struct {
	// Allowed says whether the request may proceed.
	Allowed bool
	// Limit is the burst: how many requests a full bucket holds.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter, when refused, is how long until one request is allowed again.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again, if nothing more comes.
	ResetAfter time.Duration
	// Local says the in-process limiter decided, because Redis could not.
	Local bool
}

// RateLimiterOptions tune NewRateLimiter; zero fields take the defaults.
type RateLimiterOptions struct {
	// Timeout bounds each decision in Redis; default DefaultRateLimitTimeout.
	Timeout time.Duration
	// Replicas is how many processes share the limits. While Redis is unavailable each
	// process enforces 1/Replicas of every limit on its own (rate at least MinLocalRate, burst
	// at least 1); default 1.
	Replicas int
	// LocalKeys bounds the local limiter's buckets; the least useful go first. Default
	// DefaultLocalRateLimitKeys.
	LocalKeys int
	// CoolDown is how long Redis is left alone after it failed; default DefaultRateLimitCoolDown.
	CoolDown time.Duration
	// Now is the local limiter's clock; default time.Now. Redis decides on its own clock.
	Now func() time.Time
	// OnRedisChange is told when the limiter stops using Redis (false) and when it uses Redis
	// again (true). It must not block.
	OnRedisChange func(up bool)
}

// RateLimiter enforces limits shared by every replica through Redis, and, while Redis cannot
// answer, per-process limits in memory, so an outage neither lets everything through nor
// refuses everything. It is safe for concurrent use.
type RateLimiter struct {
	rdb     redis.UniversalClient
	opts    RateLimiterOptions
	breaker *rlBreaker
	local   *localLimiter
}

// NewRateLimiter returns a limiter keeping its buckets in rdb (nil: local limits only). It does
// not connect.
func NewRateLimiter(rdb redis.UniversalClient, opts RateLimiterOptions) *RateLimiter {
	clock := opts.Now
	opts.Timeout = positiveOr(opts.Timeout, DefaultRateLimitTimeout)
	opts.Replicas = max(opts.Replicas, 1)
	opts.LocalKeys = positiveOr(opts.LocalKeys, DefaultLocalRateLimitKeys)
	opts.CoolDown = positiveOr(opts.CoolDown, DefaultRateLimitCoolDown)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnRedisChange == nil {
		opts.OnRedisChange = func(bool) {}
	}
	return &RateLimiter{
		rdb:     rdb,
		opts:    opts,
		breaker: &rlBreaker{coolDown: opts.CoolDown, now: opts.Now, onChange: opts.OnRedisChange},
		local:   newLocalLimiter(opts.LocalKeys, clock),
	}
}

func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Allow takes one request from key's bucket under l. Redis decides when it can; otherwise the
// local limiter does (Decision.Local). It fails only when ctx ended.
func (rl *RateLimiter) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	return rl.AllowN(ctx, key, l, 1)
}

// AllowN takes n requests at once from key's bucket under l, or none: a refusal leaves the
// bucket as it was, so work that costs n requests is charged before any of it is done. n above
// the burst is never allowed. It fails only when ctx ended.
func (rl *RateLimiter) AllowN(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	if l.Disabled() {
		return Decision{Allowed: true}, nil
	}
	n = max(n, 1)
	if rl.rdb != nil && rl.breaker.allow() {
		d, err := rl.allowRedis(ctx, key, l, n)
		if err != nil && ctx.Err() != nil {
			rl.breaker.abandon()
			return Decision{}, fmt.Errorf("rate limit %s: %w", key, ctx.Err())
		}
		rl.breaker.record(err)
		if err == nil {
			return d, nil
		}
	}
	d := rl.local.allow(key, rl.localLimit(l), n)
	d.Local = true
	return d, nil
}

// localLimit is this process's share of l.
func (rl *RateLimiter) localLimit(l Limit) Limit {
	n := rl.opts.Replicas
	return Limit{
		Rate:  max(l.Rate/float64(n), min(l.Rate, MinLocalRate)),
		Burst: max((l.burst()+n-1)/n, 1),
	}
}

// gcraScript takes ARGV[3] requests from the bucket KEYS[1], which holds its theoretical
// arrival time (TAT) in microseconds since the epoch. ARGV[1] is the emission interval (1/rate)
// and ARGV[2] the burst, both positive; requests are allowed while TAT stays within burst
// intervals of now, all of them or none. Returns {allowed, remaining, retry after µs, reset after µs}; the key
// lives exactly until the bucket is full again, so an idle bucket costs nothing.
//
// The clock is Redis's TIME, not the caller's: every replica then judges by one clock, and a
// pod whose clock runs ahead cannot see buckets as emptier than they are. (Redis 5+
// replicates a script by its effects, so a write after TIME is allowed.) All values are whole
// microseconds, exact in Lua's doubles for centuries.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then
  tat = now
end
local new_tat = tat + n * interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
`)

// allowRedis decides in Redis. The client may retry a command after a network error; a retry
// of a script that did run costs the caller one request more, never lets one more through.
func (rl *RateLimiter) allowRedis(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, rl.opts.Timeout)
	defer cancel()
	iv := l.interval(time.Microsecond).Microseconds()
	res, err := gcraScript.Run(ctx, rl.rdb, []string{RateLimitKeyPrefix + key},
		strconv.FormatInt(iv, 10), strconv.Itoa(l.burst()), strconv.Itoa(n)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("rate limit %s: script answered %d values, want 4", key, len(res))
	}
	return Decision{
		Allowed: res[0] == 1, Limit: l.burst(), Remaining: int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond, ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}
