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

package api

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
)

// Limiter takes requests from a bucket: *cache.RateLimiter, shared by every replica through
// Redis, with a local fallback.
type Limiter interface {
	AllowN(ctx context.Context, key string, l cache.Limit, n int) (cache.Decision, error)
}

// The scopes of the rate limits: the scope label, and the start of each bucket's key.
const (
	scopeIP   = "ip"   // requests with a valid key, per client IP
	scopeKey  = "key"  // requests with a valid key, per key name
	scopeAnon = "anon" // requests without a valid key, per client IP
)

// rateLimits are the server's limits; a nil limiter means none.
type rateLimits struct {
	limiter Limiter
	ip, key cache.Limit
	trusted []netip.Prefix
}

func newRateLimits(d Deps) rateLimits {
	return rateLimits{limiter: d.Limiter, ip: d.Config.IPLimit, key: d.Config.KeyLimit, trusted: d.Config.TrustedProxies}
}

// rateLimitedError refuses a request over a limit.
type rateLimitedError struct {
	scope    string
	decision cache.Decision
	// reason, when set, replaces the generic message (a batch no bucket can ever hold).
	reason string
}

func (e *rateLimitedError) Error() string { return "rate limit exceeded (" + e.scope + ")" }

// rateLimit charges the request. A request without a valid key is charged to its client IP's
// bucket of unauthenticated requests (scope anon), which keyed requests never touch: behind an
// ingress every client has the ingress's address, and a flood without a key must not lock the
// keys out. A request with a valid key is charged to its key, then — only once the key allows
// it — to its IP's bucket of keyed requests. The RateLimit-* headers describe the tightest
// bucket charged. A refusal is a *rateLimitedError.
func (s *server) rateLimit(w http.ResponseWriter, r *http.Request) error {
	d, err := s.charge(r)
	if err != nil {
		return err
	}
	setRateLimitHeaders(w.Header(), d)
	return nil
}

// charge takes one request from the buckets of r (see rateLimit) and returns the tighter
// decision.
func (s *server) charge(r *http.Request) (cache.Decision, error) {
	if s.limits.limiter == nil {
		return cache.Decision{Allowed: true}, nil
	}
	ip := ipBucket(ClientIP(r, s.limits.trusted))
	name, ok := s.keys.holder(r)
	if !ok {
		return s.take(r, scopeAnon, ip, s.limits.ip, 1)
	}
	byKey, err := s.take(r, scopeKey, name, s.limits.key, 1)
	if err != nil {
		return byKey, err
	}
	byIP, err := s.take(r, scopeIP, ip, s.limits.ip, 1)
	if err != nil {
		return byIP, err
	}
	return tighter(byKey, byIP), nil
}

// take takes n requests from scope:id's bucket under l.
func (s *server) take(r *http.Request, scope, id string, l cache.Limit, n int) (cache.Decision, error) {
	if l.Disabled() {
		return cache.Decision{Allowed: true}, nil
	}
	d, err := s.limits.limiter.AllowN(r.Context(), scope+":"+id, l, n)
	if err != nil {
		return d, err
	}
	if d.Local {
		s.metrics.rateLimitFallback.Inc()
	}
	if !d.Allowed {
		s.metrics.rateLimited.WithLabelValues(scope).Inc()
		return d, &rateLimitedError{scope: scope, decision: d}
	}
	return d, nil
}

// answerRateLimited answers a refusal over a limit: 429, with when to retry.
func answerRateLimited(w http.ResponseWriter, limited *rateLimitedError) {
	setRateLimitHeaders(w.Header(), limited.decision)
	w.Header().Set("Retry-After", strconv.FormatInt(max(ceilSeconds(limited.decision.RetryAfter), 1), 10))
	body := ErrorResponse{Error: "rate limit exceeded; retry later"}
	if limited.reason != "" {
		body = ErrorResponse{Error: limited.reason, Field: "links"}
	}
	writeError(w, http.StatusTooManyRequests, body)
}

// setRateLimitHeaders writes RateLimit-Limit (the burst), RateLimit-Remaining and
// RateLimit-Reset (seconds until the bucket is full again), as named by the IETF draft
// draft-ietf-httpapi-ratelimit-headers; nothing for a disabled limit.
func setRateLimitHeaders(h http.Header, d cache.Decision) {
	if d.Limit == 0 {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.ResetAfter), 10))
}

// tighter is the decision with fewer requests left (an enforced limit over a disabled one).
func tighter(a, b cache.Decision) cache.Decision {
	switch {
	case a.Limit == 0:
		return b
	case b.Limit == 0:
		return a
	case b.Remaining < a.Remaining || b.Remaining == a.Remaining && b.ResetAfter > a.ResetAfter:
		return b
	}
	return a
}

func ceilSeconds(d time.Duration) int64 { return int64((max(d, 0) + time.Second - 1) / time.Second) }

// ipBucket names a client address's bucket: the address for IPv4, the /64 for IPv6 — one
// host is commonly given a whole /64, so a bucket per address would give it billions.
func ipBucket(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
