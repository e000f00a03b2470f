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
	"fmt"
	"log/slog"
	"math"
	"net/netip"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/envflag"
)

// rateLimitOptions configure the create API's rate limits, shared by every replica through
// Redis.
type rateLimitOptions struct {
	ipRate, keyRate   float64
	ipBurst, keyBurst int
	trustedProxies    string
	replicas          int
	trusted           []netip.Prefix // parsed by validate
}

func (l *rateLimitOptions) define(f *envflag.Set) {
	f.Float64(&l.ipRate, "api-ip-rate", 5, "API requests a second allowed per client IP (IPv6: per /64), on average; 0 disables the limit")
	f.Int(&l.ipBurst, "api-ip-burst", 20, "API requests a client IP may send at once")
	f.Float64(&l.keyRate, "api-key-rate", 50, "API requests a second allowed per API key, on average; 0 disables the limit")
	f.Int(&l.keyBurst, "api-key-burst", 1000, "API requests an API key may send at once; a batch costs one a link, so 1000 lets a full batch through")
	f.String(&l.trustedProxies, "api-trusted-proxies", "", "comma-separated CIDRs of the proxies whose X-Forwarded-For names the client")
	f.Int(&l.replicas, "api-replicas", 1, "redirectors sharing the rate limits; while Redis is down each enforces limit/replicas on its own")
}

func (l *rateLimitOptions) validate() error {
	for _, r := range []struct {
		name  string
		rate  float64
		burst int
	}{{"--api-ip", l.ipRate, l.ipBurst}, {"--api-key", l.keyRate, l.keyBurst}} {
		switch {
		case r.rate < 0 || math.IsNaN(r.rate) || math.IsInf(r.rate, 0):
			return fmt.Errorf("%s-rate must be a number at least 0", r.name)
		case r.rate > 0 && r.burst < 1:
			return fmt.Errorf("%s-burst must be at least 1", r.name)
		}
	}
	if l.replicas < 1 {
		return errors.New("--api-replicas must be at least 1")
	}
	var err error
	if l.trusted, err = api.ParseTrustedProxies(l.trustedProxies); err != nil {
		return fmt.Errorf("--api-trusted-proxies: %w", err)
	}
	return nil
}

// config sets the limits on an API configuration.
func (l *rateLimitOptions) config(c *api.Config) {
	c.IPLimit = cache.Limit{Rate: l.ipRate, Burst: l.ipBurst}
	c.KeyLimit = cache.Limit{Rate: l.keyRate, Burst: l.keyBurst}
	c.TrustedProxies = l.trusted
}

// limiter keeps the buckets in rdb, or, without Redis, in this process alone (each replica
// then enforcing limit/replicas, as during an outage).
func (l *rateLimitOptions) limiter(rdb redis.UniversalClient, log *slog.Logger) *cache.RateLimiter {
	opts := cache.RateLimiterOptions{
		Replicas: l.replicas,
		OnRedisChange: func(up bool) {
			if up {
				log.Info("API rate limits are shared through Redis again")
				return
			}
			log.Warn("Redis unavailable; API rate limits are enforced per process", "replicas", l.replicas)
		},
	}
	if rdb == nil {
		if l.ipRate > 0 || l.keyRate > 0 {
			log.Warn("No --redis-url: API rate limits are enforced per process", "replicas", l.replicas)
		}
		return cache.NewRateLimiter(nil, opts)
	}
	return cache.NewRateLimiter(rdb, opts)
}
