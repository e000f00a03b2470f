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
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// DBTier is the resolver's PostgreSQL tier and the change feed: *store.Store on the lookup
// pool. (The reconciler's view of the store is controllers.LinkStore.)
type DBTier interface {
	Lookup(ctx context.Context, domain, code string) (links.Link, error)
	// Settled and Feed read the change feed in commit order (see store.Feed, which reads a
	// page over dst's memory).
	Settled(ctx context.Context) (int64, error)
	RecentStart(ctx context.Context, versions int64) (int64, bool, error)
	Feed(ctx context.Context, dst []store.Change, after store.FeedPosition, limit int) ([]store.Change, error)
}

// RedisTier is the resolver's Redis tier: *cache.Cache. Set must compare versions (it does).
type RedisTier interface {
	Get(ctx context.Context, domain, code string) (cache.Entry, error)
	Set(ctx context.Context, l links.Link) (bool, error)
	Delete(ctx context.Context, domain, code string, version int64) (bool, error)
	// Heal writes a page of entries as Set and Delete would, in one pipeline.
	Heal(ctx context.Context, entries []cache.Entry) ([]bool, error)
	// HealCursor and AdvanceHealCursor keep how far Redis has taken the change feed.
	HealCursor(ctx context.Context) (int64, bool, error)
	AdvanceHealCursor(ctx context.Context, txid int64) error
}

// ResolverDeps are what NewResolver needs.
type ResolverDeps struct {
	// Store is required.
	Store DBTier
	// Replica, when set, is a streaming replica of Store that lookups go to, checked against
	// the version floors and its lag (see replica.go); Store must then have WALPosition
	// (*store.Store has). Writes, the change feed and the domains stay on Store.
	Replica ReplicaTier
	// Cache is the Redis tier; nil leaves it out.
	Cache RedisTier
	// RedisPing, when set, is called on every poll, so the breaker and shortlink_dependency_up
	// follow Redis even while every request is answered from memory.
	RedisPing func(ctx context.Context) error
	// Policy, when set, returns the current URL policy: a link whose target or expiredTarget
	// it blocks is answered as a suspended link is (404). Call PolicyChanged after it changes.
	Policy func() *links.Policy
	// Domains, when set, is refreshed on every poll of the change feed, so the hosts
	// ShortLinkDomain objects declare reach this replica as links do.
	Domains *Domains
	// Metrics defaults to metrics on a registry of their own.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger  *slog.Logger
	Options Options
}

// Resolver finds the link for (domain, code): in memory, else in Redis, else in PostgreSQL,
// with one lookup in flight per key. It is safe for concurrent use. Run keeps its caches in
// step with changes; Close releases them.
type Resolver struct {
	opts     Options
	store    DBTier
	redis    RedisTier
	ping     func(ctx context.Context) error
	policy   func() *links.Policy
	domains  *Domains
	metrics  *Metrics
	log      *slog.Logger
	guard    *guard
	local    *localCache
	negative *negativeCache
	breaker  *breaker
	flights  flights
	clock    *otter.CoarseClock
	// redisDeadline and dbDeadline bound the calls of lookups and fills.
	redisDeadline, dbDeadline *deadlines
	// misses counts the lookups in PostgreSQL under way (see Options.MaxConcurrentMisses).
	misses atomic.Int64
	// replica is nil without a read replica.
	replica *replica
}

// errUnknownLink is what every tier's miss comes to; built once, as a flood of unknown codes
// is answered with it from the negative cache.
var errUnknownLink = fmt.Errorf("resolve link: %w", links.ErrNotFound)

// errShed is the answer for a code that neither memory nor Redis holds while
// Options.MaxConcurrentMisses lookups in PostgreSQL are already under way.
var errShed = errors.New("resolve link: too many lookups in PostgreSQL under way")

// NewResolver builds a Resolver. It does not connect to anything.
func NewResolver(d ResolverDeps) *Resolver {
	o := d.Options.withDefaults()
	// Expiry makes every cache read look at the clock; a coarse one costs a load instead of a
	// clock read, and TTLs of seconds and minutes do not need better than clockResolution.
	clock := otter.NewCoarseClock(clockResolution)
	r := &Resolver{
		opts: o, store: d.Store, redis: d.Cache, ping: d.RedisPing, policy: d.Policy, domains: d.Domains, clock: clock,
		metrics: d.Metrics, log: d.Logger, guard: newGuard(o.FloorSize, o.FloorTTL, clock),
	}
	if r.metrics == nil {
		r.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.local = newLocalCache(o.LocalBytes, o.LocalTTL, r.guard, clock)
	r.metrics.local.Store(r.local)
	r.negative = newNegativeCache(o.NegativeSize, o.NegativeTTL, r.guard, clock)
	r.redisDeadline, r.dbDeadline = newDeadlines(o.RedisTimeout), newDeadlines(o.DBTimeout)
	r.breaker = newBreaker(o.BreakerThreshold, o.BreakerCoolDown, o.Now, r.redisStateChanged)
	if r.redis == nil {
		setUp(r.metrics.redisUp, false)
	}
	if d.Replica != nil {
		r.replica = newReplica(d.Replica, d.Store, r.metrics.factory)
	}
	return r
}

// Close stops the negative cache's maintenance goroutines and the caches' clock (the
// in-process cache and the floors run none).
func (r *Resolver) Close() {
	r.negative.close()
	r.clock.Stop()
}

// clockResolution is how far the caches' clock may lag behind.
const clockResolution = 100 * time.Millisecond

// Resolve returns the link for (domain, code), an error wrapping links.ErrNotFound when there
// is none, or an error saying why it could not be found out (see store.IsUnavailable). The
// link's validity window and suspension are the caller's to apply (links.Link.Decide).
func (r *Resolver) Resolve(ctx context.Context, domain, code string) (l links.Link, err error) {
	k := key{domain: domain, code: code}
	if r.local.link(k, &l) {
		r.metrics.cacheRequest(tierLocal, outcomeHit)
		return l, nil
	}
	if r.negative.has(k) {
		r.metrics.cacheRequest(tierLocal, outcomeNegative)
		return links.Link{}, errUnknownLink
	}
	r.metrics.cacheRequest(tierLocal, outcomeMiss)
	return r.flights.do(ctx, k, func() (links.Link, error) { return r.load(k) })
}

// load runs once per key at a time, on behalf of every request waiting for it, so it does not
// use any one request's context: each call has a deadline of its own instead.
func (r *Resolver) load(k key) (links.Link, error) {
	// A request that missed both caches just before another flight for k stored its answer
	// and ended starts a flight of its own; looking again here keeps that to one lookup.
	var l links.Link
	if r.local.link(k, &l) {
		return l, nil
	}
	if r.negative.has(k) {
		return links.Link{}, errUnknownLink
	}
	// The code is a substring of the request line, query included: the caches keep a copy, so
	// that a flood of long requests for unknown codes cannot keep those lines alive.
	k.code = strings.Clone(k.code)
	snap := r.guard.snapshot(k)
	if e, ok := r.fromRedis(k, snap); ok {
		if e.Deleted {
			r.negative.store(k, snap)
			return links.Link{}, errUnknownLink
		}
		served := r.asServed(e.Link)
		r.local.store(k, served, snap)
		return served, nil
	}
	l, err := r.fromDBAdmitted(k)
	switch {
	case err == nil:
		served := r.asServed(l)
		r.local.store(k, served, snap)
		r.fillRedis(l)
		return served, nil
	case errors.Is(err, links.ErrNotFound):
		r.negative.store(k, snap)
		return links.Link{}, errUnknownLink
	}
	return links.Link{}, err
}

// asServed applies the URL policy to a link read from Redis or PostgreSQL: one whose target
// is blocked is kept, and answered, as suspended. The check runs once per fill, not per
// request: a cache hit costs nothing more, and PolicyChanged empties the caches so every link
// is checked again under a new policy.
func (r *Resolver) asServed(l links.Link) links.Link {
	if r.policy == nil || l.Suspended {
		return l
	}
	if p := r.policy(); p.Blocks(l.Target) || p.Blocks(l.ExpiredTarget) {
		l.Suspended = true
	}
	return l
}

// PolicyChanged drops every in-process entry after the URL policy changed, so each link is
// checked under the new one when it is next filled; a fill in flight, which may have checked
// the old one, cannot store its result (see guard). Call it after the new policy is in place.
func (r *Resolver) PolicyChanged() { r.flush() }

// fromRedis returns k's Redis entry when there is one that can be trusted: Redis is in use,
// answered in time, and holds a version no invalidation has overtaken.
func (r *Resolver) fromRedis(k key, snap snapshot) (cache.Entry, bool) {
	if r.redis == nil {
		return cache.Entry{}, false
	}
	if !r.breaker.allow() {
		r.metrics.cacheRequest(tierRedis, outcomeError)
		return cache.Entry{}, false
	}
	ctx := r.redisDeadline.context()
	e, err := r.redis.Get(ctx, k.domain, k.code)
	r.breaker.record(err)
	switch {
	case errors.Is(err, links.ErrNotFound), err == nil && e.Link.Version < snap.floor:
		r.metrics.cacheRequest(tierRedis, outcomeMiss)
		return cache.Entry{}, false
	case err != nil:
		r.metrics.cacheRequest(tierRedis, outcomeError)
		r.log.Debug("Redis lookup failed", "error", err)
		return cache.Entry{}, false
	case e.Deleted:
		r.metrics.cacheRequest(tierRedis, outcomeNegative)
	default:
		r.metrics.cacheRequest(tierRedis, outcomeHit)
	}
	return e, true
}

// fromDBAdmitted is fromDB if one of the MaxConcurrentMisses places is free, else errShed.
// Shedding here, after Redis, keeps a flood of unknown codes from queueing for the lookup pool
// ahead of the links that exist, while those in Redis keep answering.
func (r *Resolver) fromDBAdmitted(k key) (links.Link, error) {
	defer r.misses.Add(-1)
	if r.misses.Add(1) > int64(r.opts.MaxConcurrentMisses) && r.opts.MaxConcurrentMisses >= 0 {
		return links.Link{}, errShed
	}
	return r.fromDB(k)
}

// fromDB looks k up in PostgreSQL: on the replica when there is one, else on the primary.
func (r *Resolver) fromDB(k key) (links.Link, error) {
	if r.replica != nil {
		return r.fromReplica(k)
	}
	return r.fromPrimary(k)
}

func (r *Resolver) fromPrimary(k key) (links.Link, error) {
	ctx := r.dbDeadline.context()
	l, err := r.store.Lookup(ctx, k.domain, k.code)
	r.recordDB(err)
	switch {
	case err == nil:
		r.metrics.cacheRequest(tierDB, outcomeHit)
	case errors.Is(err, links.ErrNotFound):
		r.metrics.cacheRequest(tierDB, outcomeMiss)
	default:
		r.metrics.cacheRequest(tierDB, outcomeError)
	}
	return l, err
}

// fillRedis stores a link read from PostgreSQL in Redis, for the other replicas. Set compares
// versions, so a fill that lost a race with the operator changes nothing.
func (r *Resolver) fillRedis(l links.Link) {
	if r.redis == nil || !r.breaker.allow() {
		return
	}
	ctx := r.redisDeadline.context()
	_, err := r.redis.Set(ctx, l)
	r.breaker.record(err)
	if err != nil {
		r.log.Debug("Redis fill failed", "error", err)
	}
}

// healRedis writes a page of changes read from the feed into Redis under the compare-version
// rule, so Redis learns of changes whose writer did not tell it (links made through the API, an
// operator's Redis write that failed) and a stale entry cannot outlive the change by its TTL.
// It reports whether Redis took the whole page; the poller moves Redis's heal cursor only
// then, so a page refused now is healed by a later poll. Every replica tries; all but the
// first are refused by the version check, cheaply. The page goes in one pipeline: a batch of a
// thousand links made through the API was a thousand round trips for every replica, and 27-40%
// of its CPU. Only the changes of transaction from and later are sent: Redis holds the others.
func (r *Resolver) healRedis(page []store.Change, from int64) bool {
	n := 0
	for _, c := range page {
		if c.Txid >= from {
			n++
		}
	}
	if n == 0 {
		return true
	}
	if r.redis == nil || !r.breaker.allow() {
		return false
	}
	entries := make([]cache.Entry, 0, n)
	for _, c := range page {
		if c.Txid >= from {
			entries = append(entries, cache.Entry{Link: c.Link, Deleted: c.Deleted}) // c.Link carries the row's version
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.RedisTimeout+time.Duration(n)*healTimePerRow)
	defer cancel()
	_, err := r.redis.Heal(ctx, entries)
	if err != nil && onlyUnstorable(err) {
		r.log.Warn("Changes Redis cannot hold were left out of the heal", "error", err)
		err = nil // no retry can store them; the rest went through
	}
	r.breaker.record(err)
	if err != nil {
		r.log.Debug("Redis heal from the change feed failed", "rows", n, "error", err)
		return false
	}
	return true
}

// onlyUnstorable reports whether every error joined in err is an entry Redis can never hold.
func onlyUnstorable(err error) bool {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return errors.Is(err, cache.ErrUnstorable)
	}
	for _, e := range joined.Unwrap() {
		if !errors.Is(e, cache.ErrUnstorable) {
			return false
		}
	}
	return true
}

// healTimePerRow is what each row of a page adds to a heal's deadline: about three times what a
// row costs in a pipeline on a busy two-core machine (BenchmarkHeal in internal/cache), so a
// page of 1,000 gets RedisTimeout + 20ms. The client's read timeout still bounds the reply.
const healTimePerRow = 20 * time.Microsecond

func (r *Resolver) redisStateChanged(up bool) {
	setUp(r.metrics.redisUp, up)
	if up {
		r.log.Info("Redis answers again; using it")
	} else {
		r.log.Warn("Redis unavailable; skipping it", "coolDown", r.opts.BreakerCoolDown)
	}
}

// recordDB keeps shortlink_dependency_up{dependency="postgres"} in step with what calls see.
func (r *Resolver) recordDB(err error) {
	setUp(r.metrics.postgresUp, !store.IsUnavailable(err))
}
