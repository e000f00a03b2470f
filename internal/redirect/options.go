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

import "time"

// Resolver defaults. The in-process cache is the one that answers almost every request; the
// others bound what an outage or a flood costs.
const (
	DefaultLocalTTL         = 5 * time.Minute
	DefaultNegativeSize     = 100_000
	DefaultNegativeTTL      = 10 * time.Second
	DefaultFloorSize        = 100_000
	DefaultFloorTTL         = 30 * time.Second
	DefaultRedisTimeout     = 100 * time.Millisecond
	DefaultDBTimeout        = 500 * time.Millisecond
	DefaultBreakerThreshold = 5
	DefaultBreakerCoolDown  = 5 * time.Second
	DefaultPollInterval     = time.Second
	DefaultPollBatch        = 1000
	DefaultStartOverlap     = 1000
	// DefaultMaxConcurrentMisses is a few lookups waiting for each connection of a lookup pool
	// of the usual size (8 to 20): a queue of milliseconds, not of the whole DBTimeout.
	DefaultMaxConcurrentMisses = 64
	// DefaultReplicaMaxLag is well under DefaultFloorTTL (see replica.go), and a few times
	// what a healthy streaming replica lags under load (milliseconds to a second).
	DefaultReplicaMaxLag        = 5 * time.Second
	DefaultReplicaCheckInterval = time.Second
)

// DefaultLocalBytes bounds the in-process cache where nothing else does (the redirector binary
// gives it a share of its container's memory limit instead when it has one): at about 150
// bytes a link with a 60-byte target, some 440,000 links.
const DefaultLocalBytes int64 = 64 << 20

// Options size the resolver's caches and time its calls. A zero field takes its default; a
// negative size turns that cache off (the benchmarks measure the tiers below it that way).
type Options struct {
	// LocalBytes bounds the in-process cache of links, in bytes of heap: the chunks its entries
	// are packed in and its index at its largest (localcache.go), so the bound holds for long
	// targets as for short ones.
	LocalBytes int64
	// LocalTTL is the hard lifetime of an in-process entry, whatever invalidations say.
	LocalTTL time.Duration
	// NegativeSize bounds the cache of unknown codes, kept apart from LocalBytes so that a flood
	// of random codes cannot evict the hot links.
	NegativeSize int
	// NegativeTTL is how long an unknown code is answered without asking again: PostgreSQL sees
	// at most one lookup per code per NegativeTTL. A link created meanwhile is announced by
	// pub/sub or the change feed, which drop the negative entry sooner.
	NegativeTTL time.Duration
	// FloorSize and FloorTTL bound the version floors an invalidation leaves, so that a fill
	// that read the old row before the invalidation cannot store it after. FloorTTL must
	// outlast the slowest fill (RedisTimeout + DBTimeout + a Redis write).
	FloorSize int
	FloorTTL  time.Duration
	// RedisTimeout and DBTimeout bound each call to Redis and PostgreSQL.
	RedisTimeout time.Duration
	DBTimeout    time.Duration
	// BreakerThreshold consecutive unavailable errors open the Redis circuit breaker for
	// BreakerCoolDown; then one probe is let through.
	BreakerThreshold int
	BreakerCoolDown  time.Duration
	// PollInterval is how often the change feed is read (the durable invalidation path).
	PollInterval time.Duration
	// PollBatch is the page size of a change-feed read.
	PollBatch int
	// StartOverlap is how many of the latest versions the first read of the change feed goes
	// back over, so a change written just before the replica started is not missed.
	StartOverlap int64
	// MaxConcurrentMisses bounds the lookups in PostgreSQL under way at once: one per code
	// that neither memory nor Redis holds, however many requests wait for it. A miss beyond
	// the bound answers 503 at once (result "shed") instead of queueing behind a flood of
	// random codes; links in memory or Redis never take a place. Negative: no bound.
	MaxConcurrentMisses int
	// ReplicaMaxLag is how far a read replica may lag behind the primary and still serve
	// lookups; ReplicaCheckInterval is how often its lag is measured. Floors outlive their sum
	// (FloorTTL is raised if need be), so a stale row cannot come back once a floor expires.
	ReplicaMaxLag        time.Duration
	ReplicaCheckInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.LocalBytes = orDefault(o.LocalBytes, DefaultLocalBytes)
	o.LocalTTL = orDefault(o.LocalTTL, DefaultLocalTTL)
	o.NegativeSize = orDefault(o.NegativeSize, DefaultNegativeSize)
	o.NegativeTTL = orDefault(o.NegativeTTL, DefaultNegativeTTL)
	o.FloorSize = orDefault(o.FloorSize, DefaultFloorSize)
	o.FloorTTL = orDefault(o.FloorTTL, DefaultFloorTTL)
	o.RedisTimeout = orDefault(o.RedisTimeout, DefaultRedisTimeout)
	o.DBTimeout = orDefault(o.DBTimeout, DefaultDBTimeout)
	o.BreakerThreshold = orDefault(o.BreakerThreshold, DefaultBreakerThreshold)
	o.BreakerCoolDown = orDefault(o.BreakerCoolDown, DefaultBreakerCoolDown)
	o.PollInterval = orDefault(o.PollInterval, DefaultPollInterval)
	o.PollBatch = orDefault(o.PollBatch, DefaultPollBatch)
	o.StartOverlap = orDefault(o.StartOverlap, DefaultStartOverlap)
	o.MaxConcurrentMisses = orDefault(o.MaxConcurrentMisses, DefaultMaxConcurrentMisses)
	o.ReplicaMaxLag = orDefault(o.ReplicaMaxLag, DefaultReplicaMaxLag)
	o.ReplicaCheckInterval = orDefault(o.ReplicaCheckInterval, DefaultReplicaCheckInterval)
	if o.FloorSize < 0 {
		o.FloorSize = DefaultFloorSize // floors are what make a late fill lose; never off
	}
	// A floor must outlive the slowest fill: a Redis read, a lookup and a Redis write.
	o.FloorTTL = max(o.FloorTTL, 2*(2*o.RedisTimeout+o.DBTimeout))
	// A floor must also outlive a read replica's lag, as measured: until the replica has
	// replayed a change, only the floor keeps its older row from being served.
	o.FloorTTL = max(o.FloorTTL, 2*(o.ReplicaMaxLag+o.ReplicaCheckInterval+o.DBTimeout))
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
