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
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// options are the manager's flags; each has an environment variable twin, which gives the
// default, so a Deployment can use either.
type options struct {
	databaseURL        string
	redisURL           string
	defaultDomain      string
	domains            string
	baseURL            string
	installID          string
	blocklistFile      string
	resyncInterval     time.Duration
	visitsInterval     time.Duration
	gcInterval         time.Duration
	maintInterval      time.Duration
	visitRetention     time.Duration
	tombstoneKeep      time.Duration
	maxConcurrent      int
	kubeAPIQPS         float64
	kubeAPIBurst       int
	metricsAddr        string
	probeAddr          string
	leaderElect        bool
	leaderElectionNS   string
	gcMaxDeletes       int
	policyPollInterval time.Duration
}

func parseOptions(args []string, getenv func(string) string, fs *flag.FlagSet) (options, error) {
	var o options
	env := envDefaults{getenv: getenv}
	fs.StringVar(&o.databaseURL, "database-url", env.str("DATABASE_URL", ""),
		"PostgreSQL URL, a direct connection (migrations take an advisory lock; never PgBouncer)")
	fs.StringVar(&o.redisURL, "redis-url", env.str("REDIS_URL", ""), "Redis URL")
	fs.StringVar(&o.defaultDomain, "default-domain", env.str("DEFAULT_DOMAIN", "localhost"), "domain served for ShortLinks without spec.domain")
	fs.StringVar(&o.domains, "domains", env.str("DOMAINS", ""), "comma-separated further domains that ShortLinks may use in spec.domain")
	fs.StringVar(&o.baseURL, "base-url", env.str("BASE_URL", ""), "prefix of short URLs on the default domain (default https://<default-domain>)")
	fs.StringVar(&o.installID, "install-id", env.str("INSTALL_ID", "default"),
		"stamps this installation's rows; garbage collection touches no other's")
	fs.StringVar(&o.blocklistFile, "blocklist-file", env.str("BLOCKLIST_FILE", ""),
		"file of blocked target domains, one a line (a mounted ConfigMap works); re-read when it changes")
	fs.DurationVar(&o.resyncInterval, "resync-interval", env.dur("RESYNC_INTERVAL", 10*time.Minute),
		"how often every ShortLink is checked against PostgreSQL and Redis to repair drift (jittered)")
	fs.DurationVar(&o.visitsInterval, "visits-sync-interval", env.dur("VISITS_SYNC_INTERVAL", 30*time.Second),
		"how often visit totals are copied into status.visits")
	fs.DurationVar(&o.gcInterval, "gc-interval", env.dur("GC_INTERVAL", 10*time.Minute),
		"how often rows of deleted ShortLinks are garbage collected")
	fs.IntVar(&o.gcMaxDeletes, "gc-max-deletes", env.int("GC_MAX_DELETES", 100), "at most this many rows are garbage collected a pass")
	fs.DurationVar(&o.maintInterval, "maintenance-interval", env.dur("MAINTENANCE_INTERVAL", time.Hour),
		"how often visit_logs partitions and tombstones are maintained")
	fs.DurationVar(&o.visitRetention, "visit-log-retention", env.dur("VISIT_LOG_RETENTION", 90*24*time.Hour),
		"visit_logs partitions older than this are dropped")
	fs.DurationVar(&o.tombstoneKeep, "tombstone-retention", env.dur("TOMBSTONE_RETENTION", 48*time.Hour),
		"deleted links' tombstones are kept this long (longer than any cache TTL)")
	fs.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", env.int("MAX_CONCURRENT_RECONCILES", 4), "ShortLinks reconciled in parallel")
	fs.Float64Var(&o.kubeAPIQPS, "kube-api-qps", env.float("KUBE_API_QPS", 50), "queries per second to the API server")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", env.int("KUBE_API_BURST", 100), "burst of queries to the API server")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", env.str("METRICS_BIND_ADDRESS", ":8080"), "address of /metrics; 0 disables it")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", env.str("HEALTH_PROBE_BIND_ADDRESS", ":8081"), "address of /healthz and /readyz")
	fs.BoolVar(&o.leaderElect, "leader-elect", env.bool("LEADER_ELECT", false),
		"elect a leader, so that only one replica reconciles and runs the jobs")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", env.str("LEADER_ELECTION_NAMESPACE", ""),
		"namespace of the leader election Lease (default: the pod's)")
	fs.DurationVar(&o.policyPollInterval, "blocklist-poll-interval", env.dur("BLOCKLIST_POLL_INTERVAL", 5*time.Second),
		"how often the blocklist file is checked for changes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := env.err(); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch {
	case o.databaseURL == "":
		return fmt.Errorf("--database-url (DATABASE_URL) is required")
	case o.redisURL == "":
		return fmt.Errorf("--redis-url (REDIS_URL) is required")
	case o.resyncInterval <= 0 || o.visitsInterval <= 0 || o.gcInterval <= 0 || o.maintInterval <= 0:
		return fmt.Errorf("intervals must be positive")
	}
	if o.baseURL == "" {
		o.baseURL = "https://" + o.defaultDomain
	}
	o.baseURL = strings.TrimRight(o.baseURL, "/")
	return nil
}

// envDefaults reads flag defaults from the environment and remembers the first bad value.
type envDefaults struct {
	getenv func(string) string
	bad    error
}

func (e *envDefaults) str(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

func (e *envDefaults) parse(name string, parse func(string) error) {
	v := e.getenv(name)
	if v == "" {
		return
	}
	if err := parse(v); err != nil && e.bad == nil {
		e.bad = fmt.Errorf("environment variable %s=%q: %w", name, v, err)
	}
}

func (e *envDefaults) dur(name string, def time.Duration) time.Duration {
	e.parse(name, func(v string) (err error) { def, err = time.ParseDuration(v); return })
	return def
}

func (e *envDefaults) int(name string, def int) int {
	e.parse(name, func(v string) (err error) { def, err = strconv.Atoi(v); return })
	return def
}

func (e *envDefaults) float(name string, def float64) float64 {
	e.parse(name, func(v string) (err error) { def, err = strconv.ParseFloat(v, 64); return })
	return def
}

func (e *envDefaults) bool(name string, def bool) bool {
	e.parse(name, func(v string) (err error) { def, err = strconv.ParseBool(v); return })
	return def
}

func (e *envDefaults) err() error { return e.bad }
