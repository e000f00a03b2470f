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
	"log/slog"
	"sync"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// VisitCounter is the count of people's visits of limited links shared by every replica:
// *cache.Cache. AddVisits reports false when it holds no count for the link.
type VisitCounter interface {
	AddVisits(ctx context.Context, domain, code string, n int64) (int64, bool, error)
	SeedVisits(ctx context.Context, domain, code string, seed, n int64) (int64, error)
}

// VisitSeeds reads a link's people's visits as flushed to PostgreSQL: *store.Store.
type VisitSeeds interface {
	HumanVisits(ctx context.Context, domain, code string) (int64, error)
}

// Visit limits (spec.maxVisits) are checked only for links that have one, so unlimited links
// pay nothing. A limited link costs one Redis script per request; when Redis cannot answer,
// the replica counts on by itself (fail open) and adds what it counted once Redis answers.
const (
	// limitTimeout bounds a count in Redis: waiting longer than that costs every click of a
	// campaign link more than an overshoot of a few visits would.
	limitTimeout = 100 * time.Millisecond
	// maxLocalCounts bounds the per-link counts a replica keeps (a few dozen bytes each); past
	// it they start again, which forgets only counts not yet added to Redis.
	maxLocalCounts = 65536
)

// errNoCounter is add's answer on a replica without Redis: it counts alone.
var errNoCounter = errors.New("no shared visit count")

// limiter decides whether a limited link still redirects to its target.
type limiter struct {
	counter VisitCounter // nil: this replica counts alone
	seeds   VisitSeeds   // nil: a missing count starts at zero
	log     *slog.Logger
	mu      sync.Mutex
	local   map[key]*localCount
}

// localCount is what a replica knows of a link's count: the last shared count it saw, and the
// visits it let through since without Redis, which it adds to the shared count later.
type localCount struct {
	seen, pending int64
}

func newLimiter(counter VisitCounter, seeds VisitSeeds, log *slog.Logger) *limiter {
	return &limiter{counter: counter, seeds: seeds, log: log, local: make(map[key]*localCount)}
}

// allow reports whether l, on domain, may still redirect to its target. take counts the
// request (a person's GET); otherwise (a program's visit, a HEAD) it only reads the count, so
// that bots never use up a campaign's visits.
func (lm *limiter) allow(ctx context.Context, domain string, l links.Link, take bool) bool {
	k := key{domain, l.Code}
	var n int64
	if take {
		n = 1
	}
	pending := lm.takePending(k)
	count, err := lm.add(ctx, k, n+pending)
	if err != nil {
		lm.log.Debug("Counting a limited link's visits locally", "error", err)
		count = lm.countLocally(k, n+pending)
	} else {
		lm.see(k, count)
	}
	if take {
		return count <= l.MaxVisits
	}
	return count < l.MaxVisits
}

// add adds n to the shared count, seeding it from url_stats when Redis has none.
func (lm *limiter) add(ctx context.Context, k key, n int64) (int64, error) {
	if lm.counter == nil {
		return 0, errNoCounter
	}
	ctx, cancel := context.WithTimeout(ctx, limitTimeout)
	defer cancel()
	count, ok, err := lm.counter.AddVisits(ctx, k.domain, k.code, n)
	if err != nil || ok {
		return count, err
	}
	var seed int64
	if lm.seeds != nil {
		if seed, err = lm.seeds.HumanVisits(ctx, k.domain, k.code); err != nil {
			return 0, err
		}
	}
	return lm.counter.SeedVisits(ctx, k.domain, k.code, seed, n)
}

// takePending returns the visits this replica let through without Redis, which the next
// shared count adds.
func (lm *limiter) takePending(k key) int64 {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	c, ok := lm.local[k]
	if !ok {
		return 0
	}
	p := c.pending
	c.pending = 0
	return p
}

func (lm *limiter) see(k key, count int64) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.entry(k).seen = count
}

// countLocally keeps n visits to add to Redis later and returns the count as this replica
// knows it: the last shared count it saw and what it let through since.
func (lm *limiter) countLocally(k key, n int64) int64 {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	c := lm.entry(k)
	c.pending += n
	return c.seen + c.pending
}

func (lm *limiter) entry(k key) *localCount {
	c, ok := lm.local[k]
	if !ok {
		if len(lm.local) >= maxLocalCounts {
			clear(lm.local)
		}
		c = &localCount{}
		lm.local[k] = c
	}
	return c
}
