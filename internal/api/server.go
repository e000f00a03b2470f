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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Store is where API links live: *store.Store.
type Store interface {
	CreateAPILink(ctx context.Context, l links.Link) (store.Row, error)
	CreateGeneratedAPILink(ctx context.Context, l links.Link, encode func(uint64) string) (store.Row, error)
	GetWithVisits(ctx context.Context, domain, code string) (store.Row, store.LinkVisits, error)
	PatchAPILink(ctx context.Context, domain, code, ownedBy string, apply func(links.Link) (links.Link, error)) (store.Row, error)
	DeleteAPILink(ctx context.Context, domain, code, ownedBy string) (int64, error)
	CreateAPILinks(ctx context.Context, ls []links.Link, encode func(uint64) string) ([]store.Row, error)
	ListLinks(ctx context.Context, q store.ListQuery) ([]store.Row, error)
	VisitSeries(ctx context.Context, domain, code string, first time.Time, step time.Duration, n int) ([]store.VisitCount, error)
	VisitBreakdowns(ctx context.Context, domain, code string, first, end time.Time) (store.Breakdowns, error)
}

// Config is what the operator of the redirector configures for the API.
type Config struct {
	// Site holds the served domains (the default one is required; its links are stored with
	// domain "") and the short URLs answered for links.
	Site links.Site
	// Blocked are hosts (and their subdomains) no link may target, when Deps.Policy is nil.
	Blocked []string
	// IPLimit and KeyLimit are the rate limits per client IP (IPv6: per /64) and per API key,
	// enforced with Deps.Limiter; a zero Rate disables one.
	IPLimit, KeyLimit cache.Limit
	// TrustedProxies are the peers whose X-Forwarded-For names the client (see ClientIP).
	TrustedProxies []netip.Prefix
}

// Deps are what NewHandler needs.
type Deps struct {
	// Store and Codec (which makes codes from sequence values) are required.
	Store Store
	Codec *links.Codec
	// Keys are the API keys; nil refuses every request (there is no anonymous access).
	Keys *Keys
	// Metrics defaults to metrics on a registry of their own.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Limiter enforces Config.IPLimit and Config.KeyLimit; nil means no rate limits.
	Limiter Limiter
	// Policy returns the current URL policy (links.PolicyFile.Policy, which follows the
	// blocklist file); nil means a fixed one of the served domains and Config.Blocked.
	Policy func() *links.Policy
	Config Config
}

type server struct {
	mux     *http.ServeMux
	store   Store
	codec   *links.Codec
	keys    *Keys
	metrics *Metrics
	log     *slog.Logger
	policy  func() *links.Policy
	site    links.Site
	now     func() time.Time
	limits  rateLimits
}

// NewHandler returns the create API's handler for paths under /api/v1/. Every request needs
// an API key (Authorization: Bearer <key>).
func NewHandler(d Deps) (http.Handler, error) {
	if d.Store == nil || d.Codec == nil {
		return nil, errors.New("new api handler: store and codec are required")
	}
	if d.Config.Site.DefaultDomain() == "" {
		return nil, errors.New("new api handler: a site with a default domain is required")
	}
	s := &server{store: d.Store, codec: d.Codec, keys: d.Keys, metrics: d.Metrics, log: d.Logger,
		policy: d.Policy, site: d.Config.Site, now: time.Now}
	if s.policy == nil {
		policy, err := links.NewPolicy(s.site.Served(), d.Config.Blocked)
		if err != nil {
			return nil, fmt.Errorf("new api handler: %w", err)
		}
		s.policy = func() *links.Policy { return policy }
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.keys.reportTo(s.metrics)
	s.limits = newRateLimits(d)
	s.routes()
	return s.mux, nil
}

// route is one endpoint: its pattern, its `operation` label and what a key must be allowed.
type route struct {
	pattern, operation, scope string
	handle                    func(http.ResponseWriter, *http.Request) error
}

// routeTable lists every endpoint needing a key; openapi.json describes each of them.
func (s *server) routeTable() []route {
	return []route{
		{"POST /api/v1/links", "create", opCreate, s.create},
		{"POST /api/v1/links:batch", "batch", opCreate, s.batch},
		{"GET /api/v1/links", "list", opRead, s.list},
		{"GET /api/v1/links/{code}", "get", opRead, s.get},
		{"GET /api/v1/links/{code}/visits", "visits", opRead, s.visits},
		{"GET /api/v1/links/{code}/breakdown", "breakdown", opRead, s.breakdown},
		{"PATCH /api/v1/links/{code}", "update", opUpdate, s.update},
		{"DELETE /api/v1/links/{code}", "delete", opDelete, s.delete},
	}
}

func (s *server) routes() {
	s.mux = http.NewServeMux()
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.pattern, s.op(rt.operation, s.authorize(rt.scope, rt.handle)))
	}
	s.mux.HandleFunc(openAPIPattern, serveOpenAPI)
	s.mux.Handle("/api/v1/", s.op("unknown", func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
}

// op applies the rate limits, checks the key, bounds the body, runs h, answers its error and
// counts the request.
func (s *server) op(operation string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.rateLimit(w, r)
		if err == nil {
			err = errUnauthorized
			if _, ok := s.keys.holder(r); ok {
				r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(operation))
				err = h(w, r)
			}
		}
		result := "ok"
		if err != nil {
			result = s.answer(w, r, err)
		}
		s.metrics.request(operation, result)
	})
}

// bodyLimit bounds the body of a request: a batch may be larger than one link.
func bodyLimit(operation string) int64 {
	if operation == "batch" {
		return MaxBatchBodyBytes
	}
	return MaxBodyBytes
}
