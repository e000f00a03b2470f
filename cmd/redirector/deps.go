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

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/memlimit"
	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/stats"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// deps are the redirector's connections and what is built on them.
type deps struct {
	lookups  *store.Store
	replica  *store.Store // nil without --database-replica-url
	stats    *store.Store
	visits   *stats.Aggregator // nil with --stats=false
	redis    redis.UniversalClient
	cache    *cache.Cache
	registry *prometheus.Registry
	metrics  *redirect.Metrics
	resolver *redirect.Resolver
	domains  *redirect.Domains // the hosts ShortLinkDomain objects declare
	api      *store.Store      // nil without --api
	handler  http.Handler      // the create API; nil without --api

	// policy holds the blocklist: the API refuses links to it, redirects to it answer 404.
	policy *links.PolicyFile
	// geo is the database of --geoip-database; nil without one.
	geo *redirect.GeoDatabase
}

// connect opens the pools and builds the resolver. Nothing here waits for PostgreSQL or Redis:
// either may be down when a pod starts, and the redirector serves what it can meanwhile.
func connect(ctx context.Context, o options, log *slog.Logger) (d *deps, err error) {
	d = &deps{registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	dbOpts := store.Options{ViaPgBouncer: !o.databaseDirect, MaxConns: int32(min(o.lookupConns, 1<<20))} //nolint:gosec // bounded
	if d.lookups, err = store.Open(ctx, o.databaseURL, dbOpts); err != nil {
		return d, fmt.Errorf("open lookup pool: %w", err)
	}
	dbOpts.MaxConns = int32(min(o.statsConns, 1<<20)) //nolint:gosec // bounded
	if d.stats, err = store.Open(ctx, o.databaseURL, dbOpts); err != nil {
		return d, fmt.Errorf("open stats pool: %w", err)
	}
	pools := map[string]*pgxpool.Pool{"lookup": d.lookups.Pool(), "stats": d.stats.Pool()}
	if o.databaseReplicaURL != "" {
		dbOpts.MaxConns = int32(min(o.lookupConns, 1<<20)) //nolint:gosec // bounded
		if d.replica, err = store.Open(ctx, o.databaseReplicaURL, dbOpts); err != nil {
			return d, fmt.Errorf("open replica lookup pool: %w", err)
		}
		pools["replica"] = d.replica.Pool()
	}
	d.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		redirect.NewDBPoolCollector(pools),
	)
	d.metrics = redirect.NewMetrics(d.registry)
	if o.stats {
		d.visits = stats.New(d.stats, stats.Options{
			Registerer: d.registry, Logger: log, ShutdownTimeout: o.flushBudget(),
			MaxPendingBytes: o.pendingVisitBytes(memlimit.Container),
		})
	}
	d.domains = redirect.NewDomains(d.lookups, log)
	if err = d.openGeo(o, log); err != nil {
		return d, err
	}
	rd := redirect.ResolverDeps{Store: d.lookups, Domains: d.domains, Metrics: d.metrics, Logger: log, Options: resolverOptions(o)}
	if d.replica != nil {
		rd.Replica = d.replica // a nil *store.Store in the interface would not read as no replica
	}
	if o.localSize > 0 {
		log.Warn("--local-cache-size (LOCAL_CACHE_SIZE) is deprecated and ignored: the in-process cache is bounded in bytes",
			"localCacheBytes", rd.Options.LocalBytes)
	}
	if o.redisURL != "" {
		cache.LogTo(log) // go-redis's own lines, at debug level
		if d.redis, err = cache.NewUniversalClient(o.redisURL, cache.ClientOptions{Name: "shortlink-redirector"}); err != nil {
			return d, fmt.Errorf("redis: %w", err)
		}
		d.cache = cache.New(d.redis, cache.Options{})
		d.registry.MustRegister(redirect.NewRedisPoolCollector(map[string]redirect.RedisPoolStatser{"cache": d.redis}))
		rd.Cache = d.cache
		rd.RedisPing = func(ctx context.Context) error { return d.redis.Ping(ctx).Err() }
	} else {
		log.Warn("No --redis-url: running without the Redis tier and without pub/sub invalidation")
	}
	if d.policy, err = o.site.PolicyFile(o.api.blocklistFile); err != nil {
		return d, err
	}
	rd.Policy = d.policy.Policy
	d.resolver = redirect.NewResolver(rd)
	d.watchBlocklist(ctx, o, log)
	if o.api.enabled {
		if err = d.buildAPI(ctx, o, log); err != nil {
			return d, err
		}
	}
	return d, nil
}

// watchBlocklist re-reads the blocklist file until ctx ends; after a change the resolver checks
// every link again, so a newly blocked domain stops redirecting on every replica.
func (d *deps) watchBlocklist(ctx context.Context, o options, log *slog.Logger) {
	if o.api.blocklistPoll <= 0 {
		return
	}
	go d.policy.Watch(ctx, o.api.blocklistPoll, func() {
		d.resolver.PolicyChanged()
		log.Info("Blocklist changed; checking every link again", "file", o.api.blocklistFile)
	}, func(err error) { log.Error("Blocklist not reloaded; keeping the previous one", "error", err) })
}

func resolverOptions(o options) redirect.Options {
	return redirect.Options{
		LocalBytes: o.localCacheBytes(memlimit.Container), LocalTTL: o.localTTL,
		NegativeSize: o.negativeSize, NegativeTTL: o.negativeTTL,
		PollInterval: o.pollInterval, MaxConcurrentMisses: o.maxConcurrentMisses,
		ReplicaMaxLag: o.databaseReplicaMaxLag,
	}
}

// close releases everything connect opened, the pools last.
func (d *deps) close() {
	if d.resolver != nil {
		d.resolver.Close()
	}
	if d.redis != nil {
		_ = d.redis.Close()
	}
	if d.api != nil {
		d.api.Close()
	}
	if d.stats != nil {
		d.stats.Close()
	}
	if d.replica != nil {
		d.replica.Close()
	}
	if d.lookups != nil {
		d.lookups.Close()
	}
	if d.geo != nil {
		_ = d.geo.Close()
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// visitRecorder is where counted redirects go: the aggregator, or nowhere with --stats=false.
func (d *deps) visitRecorder() redirect.VisitRecorder {
	if d.visits == nil {
		return nopVisits{}
	}
	return d.visits
}

// visitCounter is the shared count of limited links' visits, or nil without Redis (each
// replica then counts alone); never a nil *cache.Cache in a non-nil interface.
func (d *deps) visitCounter() redirect.VisitCounter {
	if d.cache == nil {
		return nil
	}
	return d.cache
}

// nopVisits drops visits.
type nopVisits struct{}

func (nopVisits) Record(redirect.Visit) {}

// checkRedisURL refuses a --redis-url the client could not use; empty means no Redis tier.
func checkRedisURL(url string) error {
	if url == "" {
		return nil
	}
	if err := cache.CheckURL(url); err != nil {
		return fmt.Errorf("--redis-url (REDIS_URL): %w", err)
	}
	return nil
}
