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
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client defaults. A redirect answers in well under a millisecond from Redis, so a command that
// has not answered in 250ms is not going to help the caller: failing fast lets the redirector
// fall through to PostgreSQL and the operator report Cached=False, instead of queueing behind a
// dead server.
const (
	DefaultTimeout    = 250 * time.Millisecond
	DefaultMaxRetries = 1
	// DefaultMaxRedirects is a Cluster client's budget of further attempts after the first: its
	// one retry after a network error, or a MOVED/ASK redirect after a failover or resharding.
	// go-redis's default of 3, each attempt bounded by DefaultTimeout, would let a dead node
	// cost a redirect a second.
	DefaultMaxRedirects = 2
)

// ClientOptions tune NewClient. A zero field takes the value from the URL's query parameters
// (dial_timeout, read_timeout, write_timeout, pool_timeout, max_retries, pool_size,
// client_name) if present, else the default.
type ClientOptions struct {
	// Name is sent with CLIENT SETNAME, so CLIENT LIST tells the binaries apart.
	Name string
	// DialTimeout bounds one connection attempt; default DefaultTimeout. Dialing is never
	// retried within a command: MaxRetries is the only retry.
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout bound each socket read and write; default DefaultTimeout.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// PoolTimeout bounds the wait for a free pooled connection; default DefaultTimeout.
	PoolTimeout time.Duration
	// MaxRetries is how often a command failing with a network error is retried; default
	// DefaultMaxRetries, which lets a command outlive one stale pooled connection after a Redis
	// restart. Negative disables retries. Every write in this package is idempotent.
	MaxRetries int
	// PoolSize is the number of pooled connections; default go-redis's (10 per GOMAXPROCS).
	PoolSize int
}

// NewUniversalClient returns the client the URL's scheme selects, each with NewClient's tight
// timeouts and single retry:
//
//   - redis://, rediss:// or unix://: one Redis server, as NewClient.
//   - redis-sentinel://[user[:password]@]host:port[,host:port…]/master[/db][?…] (rediss-sentinel://
//     for TLS): the master that the sentinels name, followed through failovers. User-info is
//     Redis's password; sentinel_username and sentinel_password authenticate to the sentinels.
//   - redis-cluster://[user[:password]@]host:port[,host:port…][?…] (rediss-cluster://): a Redis
//     Cluster reached through any of the listed nodes. Retries and MOVED/ASK redirects share
//     max_redirects (default DefaultMaxRedirects).
//
// Query parameters are go-redis's options in snake case (dial_timeout, read_timeout,
// pool_size, …) and lose to opts' non-zero fields. It does not connect.
func NewUniversalClient(url string, opts ClientOptions) (redis.UniversalClient, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch scheme {
	case SchemeSentinel, SchemeSentinelTLS:
		o, err := parseSentinelURL(url, scheme)
		if err != nil {
			return nil, err
		}
		tightenFailover(o, opts)
		return redis.NewFailoverClient(o), nil
	case SchemeCluster, SchemeClusterTLS:
		o, err := parseClusterURL(url, scheme)
		if err != nil {
			return nil, err
		}
		tightenCluster(o, opts)
		return redis.NewClusterClient(o), nil
	}
	return NewClient(url, opts)
}

// CheckURL returns the error NewUniversalClient would return for url, without building a
// client, so that a binary refuses a bad --redis-url at start-up with its other flags.
func CheckURL(url string) error {
	scheme, _, _ := strings.Cut(url, "://")
	var err error
	switch scheme {
	case SchemeSentinel, SchemeSentinelTLS:
		_, err = parseSentinelURL(url, scheme)
	case SchemeCluster, SchemeClusterTLS:
		_, err = parseClusterURL(url, scheme)
	default:
		if _, err = redis.ParseURL(url); err != nil {
			err = fmt.Errorf("parse redis url: %w", err)
		}
	}
	return err
}

// NewClient returns a client for a redis:// or rediss:// URL, with timeouts tight enough that a
// dead Redis costs a caller at most a few hundred milliseconds (see ClientOptions). Context
// deadlines are honoured too. It does not connect: Redis may be down when a binary starts.
func NewClient(url string, opts ClientOptions) (*redis.Client, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	knobsOf(&o.ClientName, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.DialerRetries, &o.ContextTimeoutEnabled).tighten(opts)
	o.MaxRetries = retries(pick(opts.MaxRetries, o.MaxRetries, DefaultMaxRetries))
	return redis.NewClient(o), nil
}

// tightenFailover gives a Sentinel client NewClient's timeouts and retry; the sentinels are
// asked with the same ones.
func tightenFailover(o *redis.FailoverOptions, opts ClientOptions) {
	knobsOf(&o.ClientName, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.DialerRetries, &o.ContextTimeoutEnabled).tighten(opts)
	o.MaxRetries = retries(pick(opts.MaxRetries, o.MaxRetries, DefaultMaxRetries))
}

// tightenCluster gives a Cluster client NewClient's timeouts. The cluster client retries
// itself, across nodes, within max_redirects; its node clients do not retry on their own, or
// the two budgets would multiply.
func tightenCluster(o *redis.ClusterOptions, opts ClientOptions) {
	knobsOf(&o.ClientName, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.DialerRetries, &o.ContextTimeoutEnabled).tighten(opts)
	redirects := pick(0, o.MaxRedirects, DefaultMaxRedirects)
	if opts.MaxRetries != 0 {
		redirects = max(opts.MaxRetries, 0) + 1 // a redirect is still allowed without retries
	}
	o.MaxRedirects = redirects
	o.MaxRetries = -1
}

// knobs are the settings every go-redis options type has under the same names; NewClient and
// the Sentinel and Cluster clients set them alike.
type knobs struct {
	name                           *string
	dial, read, write, poolTimeout *time.Duration
	poolSize, dialerRetries        *int
	contextTimeout                 *bool
}

func knobsOf(name *string, dial, read, write, poolTimeout *time.Duration, poolSize, dialerRetries *int, contextTimeout *bool) knobs {
	return knobs{name, dial, read, write, poolTimeout, poolSize, dialerRetries, contextTimeout}
}

// tighten takes each setting from opts, else from the URL, else the default (see ClientOptions).
func (k knobs) tighten(opts ClientOptions) {
	*k.name = pick(opts.Name, *k.name, "")
	*k.dial = pick(opts.DialTimeout, *k.dial, DefaultTimeout)
	*k.read = pick(opts.ReadTimeout, *k.read, DefaultTimeout)
	*k.write = pick(opts.WriteTimeout, *k.write, DefaultTimeout)
	*k.poolTimeout = pick(opts.PoolTimeout, *k.poolTimeout, DefaultTimeout)
	*k.poolSize = pick(opts.PoolSize, *k.poolSize, 0)
	// go-redis otherwise dials up to five times, 100ms apart, inside a single command.
	*k.dialerRetries = 1
	*k.contextTimeout = true
}

// retries spells "no retries" as go-redis does, -1; its 0 means 3.
func retries(n int) int {
	if n < 0 {
		return -1
	}
	return n
}

// pick returns the first non-zero of an explicit option, a value from the URL and a default.
func pick[T comparable](explicit, fromURL, def T) T {
	var zero T
	switch {
	case explicit != zero:
		return explicit
	case fromURL != zero:
		return fromURL
	}
	return def
}
