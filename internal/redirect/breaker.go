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
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
)

// breaker skips a dead Redis instead of waiting on it. After threshold consecutive unavailable
// errors it opens for coolDown: calls are skipped and go straight to PostgreSQL. Then one
// call at a time is let through as a probe; a success closes it, a failure opens it again.
// Only unavailability counts: a miss or a malformed entry means Redis answered.
//
// Its state is a few atomics, so a closed breaker costs a request one load.
type breaker struct {
	threshold int32
	coolDown  time.Duration
	now       func() time.Time
	// onChange is told when the breaker opens (false) or closes (true).
	onChange func(up bool)

	failures  atomic.Int32
	openUntil atomic.Int64 // unix nanoseconds; 0 when closed
	probing   atomic.Bool
}

func newBreaker(threshold int, coolDown time.Duration, now func() time.Time, onChange func(bool)) *breaker {
	return &breaker{threshold: int32(min(threshold, 1<<30)), coolDown: coolDown, now: now, onChange: onChange} //nolint:gosec // bounded
}

// allow reports whether a call may go to Redis. A caller that got true must report the call's
// outcome with record.
func (b *breaker) allow() bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	if b.now().UnixNano() < until {
		return false
	}
	return b.probing.CompareAndSwap(false, true)
}

// record reports the outcome of an allowed call.
func (b *breaker) record(err error) {
	switch {
	case cache.IsUnavailable(err):
		b.failure()
	case errors.Is(err, context.Canceled):
		b.probing.Store(false) // the caller gave up; Redis said nothing either way
	default:
		b.success()
	}
}

func (b *breaker) success() {
	if b.failures.Load() == 0 && b.openUntil.Load() == 0 {
		return
	}
	b.failures.Store(0)
	b.probing.Store(false)
	if b.openUntil.Swap(0) != 0 {
		b.onChange(true)
	}
}

func (b *breaker) failure() {
	if b.failures.Add(1) < b.threshold {
		return
	}
	was := b.openUntil.Swap(b.now().Add(b.coolDown).UnixNano())
	b.probing.Store(false)
	if was == 0 {
		b.onChange(false)
	}
}
