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
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/shortlink-dev/shortlink/internal/envflag"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/stats"
)

// options are the redirector's flags. Each has an environment variable twin (the flag's name in
// upper case with '_' for '-'), which gives its default, so a Deployment can use either.
type options struct {
	listenAddr, metricsAddr     string
	databaseURL                 string
	databaseReplicaURL          string
	databaseReplicaMaxLag       time.Duration
	databaseDirect              bool
	lookupConns, statsConns     int
	redisURL                    string
	defaultDomain, domains      string
	site                        links.Site // from defaultDomain, domains and the API's --base-url
	notFoundURL, unknownHostURL string
	localSize, negativeSize     int
	localBytes                  int
	localTTL, negativeTTL       time.Duration
	pollInterval                time.Duration
	maxConcurrentMisses         int
	permanentMaxAge             time.Duration
	shutdownTimeout             time.Duration
	shutdownDelay               time.Duration
	stats                       bool
	statsMaxPendingBytes        int
	logLevel                    slog.Level
	pprof                       bool
	api                         apiOptions
	// geoDatabase is the path of a MaxMind-format database giving visits their country.
	geoDatabase string
}

func parseOptions(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("redirector", flag.ContinueOnError)
	fs.SetOutput(out)
	f := envflag.Set{FS: fs, Getenv: getenv}
	f.String(&o.listenAddr, "listen-address", ":8080", "address of the redirects and /_/healthz, /_/readyz")
	f.String(&o.metricsAddr, "metrics-address", ":9090", "address of /metrics")
	f.String(&o.databaseURL, "database-url", "", "PostgreSQL URL, through PgBouncer in transaction pooling mode (required)")
	f.String(&o.databaseReplicaURL, "database-replica-url", "",
		"PostgreSQL URL of a streaming read replica for lookups, through a PgBouncer of its own (docs/operations.md); "+
			"writes, the change feed, stats and domains stay on --database-url. Empty: every lookup goes to --database-url")
	f.Duration(&o.databaseReplicaMaxLag, "database-replica-max-lag", redirect.DefaultReplicaMaxLag,
		"a replica lagging further behind the primary is skipped until it catches up")
	f.Bool(&o.databaseDirect, "database-direct", false, "the database URLs point at PostgreSQL itself, not PgBouncer")
	f.Int(&o.lookupConns, "database-max-conns", 20, "size of the lookup pool")
	f.Int(&o.statsConns, "stats-max-conns", 4, "size of the stats pool, apart from lookups")
	f.String(&o.redisURL, "redis-url", "", "Redis URL: redis://, redis-sentinel:// or redis-cluster:// (docs/operations.md); empty runs without the Redis tier")
	f.String(&o.defaultDomain, "default-domain", "localhost", "host serving links without a domain")
	f.String(&o.domains, "domains", "", "comma-separated further hosts served")
	f.String(&o.notFoundURL, "not-found-url", "", "redirect unknown, suspended and not-yet-valid codes here instead of 404")
	f.String(&o.unknownHostURL, "unknown-host-url", "", "redirect requests for hosts not served here instead of 404")
	f.Int(&o.localBytes, "local-cache-bytes", 0,
		"bound in bytes of the heap the in-process cache of links takes (0: a quarter of the container's memory limit, "+
			"or 64 MiB without one; negative turns the cache off)")
	f.Int(&o.localSize, "local-cache-size", 0,
		"deprecated, use --local-cache-bytes: a negative value still turns the in-process cache off; a positive count is ignored")
	f.Duration(&o.localTTL, "local-cache-ttl", redirect.DefaultLocalTTL, "hard lifetime of a link kept in memory")
	f.Int(&o.negativeSize, "negative-cache-size", redirect.DefaultNegativeSize, "unknown codes kept in memory; negative turns it off")
	f.Duration(&o.negativeTTL, "negative-ttl", redirect.DefaultNegativeTTL, "how long an unknown code is answered without asking PostgreSQL")
	f.Duration(&o.pollInterval, "poll-interval", redirect.DefaultPollInterval, "how often the change feed is read")
	f.Int(&o.maxConcurrentMisses, "max-concurrent-misses", redirect.DefaultMaxConcurrentMisses,
		"lookups in PostgreSQL under way at once for codes neither memory nor Redis holds; "+
			"beyond it a miss answers 503 with Retry-After (negative: no bound)")
	f.Duration(&o.permanentMaxAge, "permanent-max-age", redirect.DefaultPermanentMaxAge,
		"Cache-Control max-age of 301 and 308 redirects; 0 keeps them out of caches, as 302s")
	f.Duration(&o.shutdownTimeout, "shutdown-timeout", 25*time.Second,
		"bound on a whole graceful stop, SIGTERM to exit: delay and requests draining in the first half, "+
			"the final flush of visits in the second (keep it under the pod's grace period)")
	f.Duration(&o.shutdownDelay, "shutdown-delay", 0,
		"keep serving this long after SIGTERM with readiness false, while endpoints update; under half of --shutdown-timeout")
	f.Bool(&o.stats, "stats", true, "count visits (false: redirect without counting, e.g. to measure what counting costs)")
	f.Int(&o.statsMaxPendingBytes, "stats-max-pending-bytes", 0,
		"bound in bytes of the visits held while PostgreSQL is unavailable; beyond it visits are dropped and counted "+
			"(0: a quarter of the container's memory limit, or 256 MiB without one)")
	f.Level(&o.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
	f.Bool(&o.pprof, "pprof", false, "serve /debug/pprof/ on the metrics address, for CPU profiles of a benchmark")
	f.String(&o.geoDatabase, "geoip-database", "",
		"path of a MaxMind-format database (GeoLite2-Country, GeoIP2-City, ...): visits are counted by country; empty counts none")
	o.api.define(&f)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := f.Err(); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o *options) validate() error {
	if o.databaseURL == "" {
		return errors.New("--database-url (DATABASE_URL) is required")
	}
	if err := checkRedisURL(o.redisURL); err != nil {
		return err
	}
	if o.shutdownDelay >= o.shutdownTimeout-o.flushBudget() {
		return errors.New("--shutdown-delay must be shorter than half of --shutdown-timeout: the final flush of visits has the other half")
	}
	if o.pollInterval <= 0 || o.localTTL <= 0 || o.negativeTTL <= 0 || o.permanentMaxAge < 0 || o.databaseReplicaMaxLag <= 0 {
		return errors.New("intervals and TTLs must be positive")
	}
	if o.maxConcurrentMisses == 0 {
		return errors.New("--max-concurrent-misses must be positive, or negative for no bound")
	}
	if o.statsMaxPendingBytes < 0 {
		return errors.New("--stats-max-pending-bytes must not be negative")
	}
	site, err := links.NewSite(o.defaultDomain, links.SplitDomains(o.domains), o.api.defaultURL)
	if err != nil {
		return err
	}
	o.site = site
	for name, u := range map[string]string{"--not-found-url": o.notFoundURL, "--unknown-host-url": o.unknownHostURL} {
		if _, err := links.NormalizeTarget(u); u != "" && err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return o.api.validate()
}

// flushBudget is the part of --shutdown-timeout kept for the final flush of visits: half,
// whatever draining the requests took of the first half (see shutdown).
func (o *options) flushBudget() time.Duration { return o.shutdownTimeout / 2 }

// localCacheBytes is the bound of the in-process cache of links: -1 (off) if either flag says
// so, else the flag, else a quarter of the container's memory limit, as much as the visits held
// through an outage may take (pendingVisitBytes), leaving half to requests and the collector's
// headroom, else the resolver's default.
func (o *options) localCacheBytes(containerLimit func() (int64, bool)) int64 {
	switch {
	case o.localBytes < 0 || o.localSize < 0:
		return -1
	case o.localBytes > 0:
		return int64(o.localBytes)
	}
	if limit, ok := containerLimit(); ok {
		return limit / 4
	}
	return redirect.DefaultLocalBytes
}

// pendingVisitBytes is the bound of the visits held in memory: the flag, else a quarter of the
// container's memory limit, leaving the rest to the link cache, requests and the collector's
// headroom (tuneGC holds the heap to 90 % of the limit), else the aggregator's default.
func (o *options) pendingVisitBytes(containerLimit func() (int64, bool)) int64 {
	if o.statsMaxPendingBytes > 0 {
		return int64(o.statsMaxPendingBytes)
	}
	if limit, ok := containerLimit(); ok {
		return limit / 4
	}
	return stats.DefaultMaxPendingBytes
}
