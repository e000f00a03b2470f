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
	"time"

	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/envflag"
	"github.com/shortlink-dev/shortlink/internal/links"
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
	site               links.Site // from defaultDomain, domains and baseURL
	blocklistFile      string
	resyncInterval     time.Duration
	visitsInterval     time.Duration
	visitsRollupQPS    float64
	gcInterval         time.Duration
	maintInterval      time.Duration
	visitRetention     time.Duration
	tombstoneKeep      time.Duration
	maxConcurrent      int
	kubeAPIQPS         float64
	kubeAPIBurst       int
	metricsAddr        string
	probeAddr          string
	pprofAddr          string
	leaderElect        bool
	leaderElectionNS   string
	gcMaxDeletes       int
	policyPollInterval time.Duration
	webhook            webhookOptions
}

func parseOptions(args []string, getenv func(string) string, fs *flag.FlagSet) (options, error) {
	var o options
	f := envflag.Set{FS: fs, Getenv: getenv}
	f.String(&o.databaseURL, "database-url", "", "PostgreSQL URL, a direct connection (migrations take an advisory lock; never PgBouncer)")
	f.String(&o.redisURL, "redis-url", "", "Redis URL: redis://, redis-sentinel:// or redis-cluster:// (docs/operations.md)")
	f.String(&o.defaultDomain, "default-domain", "localhost", "domain served for ShortLinks without spec.domain")
	f.String(&o.domains, "domains", "", "comma-separated further domains that ShortLinks may use in spec.domain")
	f.String(&o.baseURL, "base-url", "", "prefix of short URLs on the default domain (default https://<default-domain>)")
	f.String(&o.installID, "install-id", "default", "stamps this installation's rows; garbage collection touches no other's")
	f.String(&o.blocklistFile, "blocklist-file", "", "file of blocked target domains, one a line (a mounted ConfigMap works); re-read when it changes")
	f.Duration(&o.resyncInterval, "resync-interval", 10*time.Minute, "how often every ShortLink is checked against PostgreSQL and Redis, to repair drift")
	f.Duration(&o.visitsInterval, "visits-sync-interval", 30*time.Second, "how often visit totals are copied into status.visits")
	f.Float64(&o.visitsRollupQPS, "visits-rollup-qps", 5,
		"status patches a second of the visits rollup, apart from --kube-api-qps; at most this times --visits-sync-interval a pass")
	f.Duration(&o.gcInterval, "gc-interval", 10*time.Minute, "how often rows of deleted ShortLinks are garbage collected")
	f.Int(&o.gcMaxDeletes, "gc-max-deletes", 100, "at most this many rows are garbage collected a pass")
	f.Duration(&o.maintInterval, "maintenance-interval", time.Hour, "how often visit_logs partitions and tombstones are maintained")
	f.Duration(&o.visitRetention, "visit-log-retention", 90*24*time.Hour, "visit_logs partitions and visit_hours counts older than this are dropped")
	f.Duration(&o.tombstoneKeep, "tombstone-retention", 48*time.Hour, "deleted links' tombstones are kept this long (longer than any cache TTL)")
	f.Int(&o.maxConcurrent, "max-concurrent-reconciles", 32, "ShortLinks reconciled in parallel")
	f.Float64(&o.kubeAPIQPS, "kube-api-qps", 1000, "queries per second to the API server")
	f.Int(&o.kubeAPIBurst, "kube-api-burst", 2000, "burst of queries to the API server")
	f.String(&o.metricsAddr, "metrics-bind-address", ":8080", "address of /metrics; 0 disables it")
	f.String(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.String(&o.pprofAddr, "pprof-bind-address", "0", "address of /debug/pprof/ for CPU and heap profiles; 0 (default) disables it")
	f.Bool(&o.leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles and runs the jobs")
	f.String(&o.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's)")
	f.Duration(&o.policyPollInterval, "blocklist-poll-interval", 5*time.Second, "how often the blocklist file is checked for changes")
	o.webhook.bind(&f)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := f.Err(); err != nil {
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
	case !(o.visitsRollupQPS > 0):
		return fmt.Errorf("--visits-rollup-qps (VISITS_ROLLUP_QPS) must be positive")
	}
	if err := cache.CheckURL(o.redisURL); err != nil {
		return fmt.Errorf("--redis-url (REDIS_URL): %w", err)
	}
	site, err := links.NewSite(o.defaultDomain, links.SplitDomains(o.domains), o.baseURL)
	if err != nil {
		return err
	}
	o.site = site
	return o.webhook.validate()
}

// installation is what the reconciler and the visits rollup know of this installation.
func (o *options) installation() controllers.Installation {
	return controllers.Installation{Site: o.site, InstallID: o.installID}
}
