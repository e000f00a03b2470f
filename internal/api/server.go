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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Store is where API links live: *store.Store.
type Store interface {
	CreateAPILink(ctx context.Context, l links.Link) (store.Row, error)
	CreateGeneratedAPILink(ctx context.Context, l links.Link, encode func(uint64) string) (store.Row, error)
	GetWithVisits(ctx context.Context, domain, code string) (store.Row, int64, error)
	PatchAPILink(ctx context.Context, domain, code string, apply func(links.Link) (links.Link, error)) (store.Row, error)
	DeleteAPILink(ctx context.Context, domain, code string) (int64, error)
}

// Config is what the operator of the redirector configures for the API.
type Config struct {
	// DefaultDomain is the host serving links stored with domain ""; required.
	DefaultDomain string
	// Domains are the further served hosts a link may ask for.
	Domains []string
	// Blocked are hosts (and their subdomains) no link may target.
	Blocked []string
	// Scheme of the short URLs answered; default "https".
	Scheme string
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
	Config Config
}

type server struct {
	mux           *http.ServeMux
	store         Store
	codec         *links.Codec
	keys          *Keys
	metrics       *Metrics
	log           *slog.Logger
	policy        *links.Policy
	defaultDomain string
	scheme        string
}

// NewHandler returns the create API's handler for paths under /api/v1/. Every request needs
// an API key (Authorization: Bearer <key>).
func NewHandler(d Deps) (http.Handler, error) {
	if d.Store == nil || d.Codec == nil {
		return nil, errors.New("new api handler: store and codec are required")
	}
	def, err := links.NormalizeDomain(d.Config.DefaultDomain)
	if err != nil {
		return nil, fmt.Errorf("new api handler: default domain: %w", err)
	}
	policy, err := links.NewPolicy(append([]string{def}, d.Config.Domains...), d.Config.Blocked)
	if err != nil {
		return nil, fmt.Errorf("new api handler: %w", err)
	}
	s := &server{store: d.Store, codec: d.Codec, keys: d.Keys, metrics: d.Metrics, log: d.Logger,
		policy: policy, defaultDomain: def, scheme: d.Config.Scheme}
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.scheme == "" {
		s.scheme = "https"
	}
	s.routes()
	return s.mux, nil
}

func (s *server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("POST /api/v1/links", s.op("create", s.create))
	s.mux.Handle("GET /api/v1/links/{code}", s.op("get", s.get))
	s.mux.Handle("PATCH /api/v1/links/{code}", s.op("update", s.update))
	s.mux.Handle("DELETE /api/v1/links/{code}", s.op("delete", s.delete))
	s.mux.Handle("/api/v1/", s.op("unknown", func(http.ResponseWriter, *http.Request) error { return errNoRoute }))
}

// op checks the key, bounds the body, runs h, answers its error and counts the request.
func (s *server) op(operation string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := errUnauthorized
		if _, ok := s.keys.holder(r); ok {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			err = h(w, r)
		}
		result := "ok"
		if err != nil {
			result = s.answer(w, r, err)
		}
		s.metrics.request(operation, result)
	})
}
