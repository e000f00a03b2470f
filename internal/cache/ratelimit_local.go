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
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// localLimiter is the GCRA of gcraScript in memory, for while Redis cannot decide. A bucket is
// its theoretical arrival time in Unix nanoseconds; it expires once full again, and the least
// useful buckets are evicted past the size bound, so a flood of distinct keys (a sprayed IPv6
// range) costs bounded memory. An evicted bucket comes back full: a bound on memory is worth
// more, during an outage, than exactness for the coldest keys.
type localLimiter struct {
	buckets *otter.Cache[string, int64]
	now     func() time.Time
}

// newLocalLimiter keeps at most size buckets. A nil now uses the wall clock, with otter's own
// clock for expiry; a given one drives expiry too, so a test's clock is the only clock.
func newLocalLimiter(size int, now func() time.Time) *localLimiter {
	ll := &localLimiter{now: now}
	var clock otter.Clock
	if now == nil {
		ll.now = time.Now
	} else {
		clock = funcClock(now)
	}
	ll.buckets = otter.Must(&otter.Options[string, int64]{
		MaximumSize: size,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, int64]) time.Duration {
			return max(time.Duration(e.Value-ll.now().UnixNano()), time.Millisecond)
		}),
		Clock: clock,
	})
	return ll
}

// allow takes n requests from key's bucket under l. A refusal leaves the bucket as it was.
func (ll *localLimiter) allow(key string, l Limit, n int) Decision {
	now := ll.now().UnixNano()
	iv, burst := int64(l.interval(time.Nanosecond)), int64(l.burst())
	var d Decision
	ll.buckets.Compute(key, func(tat int64, _ bool) (int64, otter.ComputeOp) {
		var next int64
		if d, next = gcra(tat, now, iv, burst, int64(n)); !d.Allowed {
			return tat, otter.CancelOp
		}
		return next, otter.WriteOp
	})
	return d
}

// gcra decides n requests on a bucket at tat (absent: 0) at now, with emission interval iv;
// it returns the decision and the bucket's next tat when allowed. Same rule as gcraScript.
func gcra(tat, now, iv, burst, n int64) (Decision, int64) {
	tat = max(tat, now)
	next := tat + n*iv
	allowAt := next - burst*iv
	d := Decision{Limit: int(burst)}
	if now < allowAt {
		d.RetryAfter, d.ResetAfter = time.Duration(allowAt-now), time.Duration(tat-now)
		return d, tat
	}
	d.Allowed, d.Remaining, d.ResetAfter = true, int((now-allowAt)/iv), time.Duration(next-now)
	return d, next
}

// funcClock is a clock function as otter's Clock. It has no ticks: expired buckets are dropped
// when touched or evicted, not proactively.
type funcClock func() time.Time

func (c funcClock) NowNano() int64                      { return c().UnixNano() }
func (c funcClock) Tick(time.Duration) <-chan time.Time { return nil }

// rlBreaker keeps the limiter off a failing Redis: any failed decision opens it for coolDown,
// during which the local limiter decides; then one call at a time probes Redis, and a success
// closes it. Unlike the redirector's breaker it opens on the first failure — a failed call
// already cost a request a timeout, and the local limiter is no looser than Redis.
type rlBreaker struct {
	coolDown time.Duration
	now      func() time.Time
	onChange func(up bool)

	openUntil atomic.Int64 // Unix nanoseconds; 0 when closed
	probing   atomic.Bool
}

// allow reports whether a call may go to Redis; a caller given true reports the outcome with
// record or abandon.
func (b *rlBreaker) allow() bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	if b.now().UnixNano() < until {
		return false
	}
	return b.probing.CompareAndSwap(false, true)
}

func (b *rlBreaker) record(err error) {
	if err != nil {
		was := b.openUntil.Swap(b.now().Add(b.coolDown).UnixNano())
		b.probing.Store(false)
		if was == 0 {
			b.onChange(false)
		}
		return
	}
	if b.openUntil.Load() == 0 {
		return
	}
	b.probing.Store(false)
	if b.openUntil.Swap(0) != 0 {
		b.onChange(true)
	}
}

// abandon is for a call whose caller gave up: Redis said nothing either way.
func (b *rlBreaker) abandon() { b.probing.Store(false) }
