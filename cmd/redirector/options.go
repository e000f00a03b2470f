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
	"strconv"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// options are the redirector's flags. Each has an environment variable twin (the flag's name in
// upper case with '_' for '-'), which gives its default, so a Deployment can use either.
type options struct {
	listenAddr, metricsAddr     string
	databaseURL                 string
	databaseDirect              bool
	lookupConns, statsConns     int
	redisURL                    string
	defaultDomain, domains      string
	notFoundURL, unknownHostURL string
	localSize, negativeSize     int
	localTTL, negativeTTL       time.Duration
	pollInterval                time.Duration
	permanentMaxAge             time.Duration
	shutdownTimeout             time.Duration
	shutdownDelay               time.Duration
	stats                       bool
	logLevel                    slog.Level
	pprof                       bool
	api                         apiOptions
}

func parseOptions(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("redirector", flag.ContinueOnError)
	fs.SetOutput(out)
	f := envFlags{fs: fs, getenv: getenv}
	f.str(&o.listenAddr, "listen-address", ":8080", "address of the redirects and /_/healthz, /_/readyz")
	f.str(&o.metricsAddr, "metrics-address", ":9090", "address of /metrics")
	f.str(&o.databaseURL, "database-url", "", "PostgreSQL URL, through PgBouncer in transaction pooling mode (required)")
	f.bool(&o.databaseDirect, "database-direct", false, "the database URL points at PostgreSQL itself, not PgBouncer")
	f.int(&o.lookupConns, "database-max-conns", 20, "size of the lookup pool")
	f.int(&o.statsConns, "stats-max-conns", 4, "size of the stats pool, apart from lookups")
	f.str(&o.redisURL, "redis-url", "", "Redis URL; empty runs without the Redis tier")
	f.str(&o.defaultDomain, "default-domain", "localhost", "host serving links without a domain")
	f.str(&o.domains, "domains", "", "comma-separated further hosts served")
	f.str(&o.notFoundURL, "not-found-url", "", "redirect unknown, suspended and not-yet-valid codes here instead of 404")
	f.str(&o.unknownHostURL, "unknown-host-url", "", "redirect requests for hosts not served here instead of 404")
	f.int(&o.localSize, "local-cache-size", redirect.DefaultLocalSize, "links kept in memory; negative turns the in-process cache off")
	f.dur(&o.localTTL, "local-cache-ttl", redirect.DefaultLocalTTL, "hard lifetime of a link kept in memory")
	f.int(&o.negativeSize, "negative-cache-size", redirect.DefaultNegativeSize, "unknown codes kept in memory; negative turns it off")
	f.dur(&o.negativeTTL, "negative-ttl", redirect.DefaultNegativeTTL, "how long an unknown code is answered without asking PostgreSQL")
	f.dur(&o.pollInterval, "poll-interval", redirect.DefaultPollInterval, "how often the change feed is read")
	f.dur(&o.permanentMaxAge, "permanent-max-age", redirect.DefaultPermanentMaxAge, "Cache-Control max-age of 301 and 308 redirects")
	f.dur(&o.shutdownTimeout, "shutdown-timeout", 25*time.Second, "bound on a graceful stop (keep it under the pod's grace period)")
	f.dur(&o.shutdownDelay, "shutdown-delay", 0, "keep serving this long after SIGTERM with readiness false, while endpoints update")
	f.bool(&o.stats, "stats", true, "count visits (false: redirect without counting, e.g. to measure what counting costs)")
	f.level(&o.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
	f.bool(&o.pprof, "pprof", false, "serve /debug/pprof/ on the metrics address, for CPU profiles of a benchmark")
	o.api.define(&f)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if f.bad != nil {
		return o, f.bad
	}
	return o, o.validate()
}

func (o *options) validate() error {
	if o.databaseURL == "" {
		return errors.New("--database-url (DATABASE_URL) is required")
	}
	if o.shutdownDelay >= o.shutdownTimeout {
		return errors.New("--shutdown-delay must be shorter than --shutdown-timeout")
	}
	if o.pollInterval <= 0 || o.localTTL <= 0 || o.negativeTTL <= 0 || o.permanentMaxAge < 0 {
		return errors.New("intervals and TTLs must be positive")
	}
	for _, d := range append(o.domainList(), o.defaultDomain) {
		if _, err := links.NormalizeDomain(d); err != nil {
			return fmt.Errorf("served domain %q: %w", d, err)
		}
	}
	for name, u := range map[string]string{"--not-found-url": o.notFoundURL, "--unknown-host-url": o.unknownHostURL} {
		if _, err := links.NormalizeTarget(u); u != "" && err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return o.api.validate()
}

func (o *options) domainList() []string {
	var out []string
	for d := range strings.SplitSeq(o.domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// envFlags defines flags whose defaults come from their environment twins, and remembers the
// first twin that does not parse.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	bad    error
}

func envName(flagName string) string { return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_")) }

func (f *envFlags) env(name string, parse func(string) error) string {
	env := envName(name)
	if v := f.getenv(env); v != "" {
		if err := parse(v); err != nil && f.bad == nil {
			f.bad = fmt.Errorf("environment variable %s=%q: %w", env, v, err)
		}
	}
	return " (env " + env + ")"
}

func (f *envFlags) str(p *string, name, def, usage string) {
	*p = def
	usage += f.env(name, func(v string) error { *p = v; return nil })
	f.fs.StringVar(p, name, *p, usage)
}

func (f *envFlags) bool(p *bool, name string, def bool, usage string) {
	*p = def
	usage += f.env(name, func(v string) (err error) { *p, err = strconv.ParseBool(v); return err })
	f.fs.BoolVar(p, name, *p, usage)
}

func (f *envFlags) int(p *int, name string, def int, usage string) {
	*p = def
	usage += f.env(name, func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
	f.fs.IntVar(p, name, *p, usage)
}

func (f *envFlags) dur(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	usage += f.env(name, func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
	f.fs.DurationVar(p, name, *p, usage)
}

func (f *envFlags) level(p *slog.Level, name string, def slog.Level, usage string) {
	*p = def
	usage += f.env(name, func(v string) error { return p.UnmarshalText([]byte(v)) })
	f.fs.TextVar(p, name, *p, usage)
}
