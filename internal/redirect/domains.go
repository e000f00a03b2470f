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

package redirect

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// DomainTier is the domains table as the redirector reads it: *store.Store on the lookup pool.
type DomainTier interface {
	DomainsFingerprint(ctx context.Context) (string, error)
	Domains(ctx context.Context) ([]store.Domain, error)
}

// Domains is this replica's copy of the hosts that ShortLinkDomain objects declare, with their
// redirects and robots.txt. The change-feed poller refreshes it on every poll (Refresh), so a
// new domain is served within a poll interval. Hosts the flags serve do not need it: a
// replica whose table is empty, or unreadable, serves exactly what its flags say.
type Domains struct {
	tier    DomainTier
	log     *slog.Logger
	current atomic.Pointer[domainSet]
}

// domainSet is one read of the table, with the fingerprint it was read at.
type domainSet struct {
	fingerprint string
	hosts       map[string]domainSettings
}

// domainSettings is what a declared host answers besides its links.
type domainSettings struct {
	// root and notFound are safe Locations, or "" for 404.
	root, notFound string
	robots         string
}

// NewDomains returns an empty Domains reading tier; it does not connect to anything.
func NewDomains(tier DomainTier, log *slog.Logger) *Domains {
	if log == nil {
		log = slog.Default()
	}
	d := &Domains{tier: tier, log: log}
	d.current.Store(&domainSet{})
	return d
}

// Refresh reads the table again when its fingerprint changed since the last read. One short
// statement when nothing changed, each through PgBouncer.
func (d *Domains) Refresh(ctx context.Context) error {
	fp, err := d.tier.DomainsFingerprint(ctx)
	if err != nil {
		return fmt.Errorf("refresh domains: %w", err)
	}
	cur := d.current.Load()
	if fp == cur.fingerprint && cur.hosts != nil {
		return nil
	}
	rows, err := d.tier.Domains(ctx)
	if err != nil {
		return fmt.Errorf("refresh domains: %w", err)
	}
	next := &domainSet{fingerprint: fp, hosts: make(map[string]domainSettings, len(rows))}
	for _, row := range rows {
		next.hosts[row.Host] = domainSettings{
			root: safeLocation(row.RootRedirect), notFound: safeLocation(row.NotFoundRedirect), robots: row.RobotsTxt,
		}
	}
	d.current.Store(next)
	if cur.hosts != nil || len(rows) > 0 {
		d.log.Info("Declared domains changed", "domains", len(rows))
	}
	return nil
}

// lookup returns the settings of a normalised host, and whether a ShortLinkDomain declares it.
// A nil Domains declares nothing.
func (d *Domains) lookup(host string) (domainSettings, bool) {
	if d == nil {
		return domainSettings{}, false
	}
	s, ok := d.current.Load().hosts[host]
	return s, ok
}

// safeLocation returns raw if a Location may carry it (as a link's target would be checked),
// else "". The manager wrote it from a validated object; this guards the table against hands.
func safeLocation(raw string) string {
	if raw == "" {
		return ""
	}
	dec := links.Link{Target: raw, RedirectType: http.StatusFound}.Decide(time.Time{}, "")
	if dec.Outcome != links.Redirect {
		return ""
	}
	return dec.Location
}

// robotsPath is the one path a declared host answers that is neither a code nor reserved: a
// code has no '.'.
const robotsPath = "robots.txt"

// servedDomain returns the stored domain of a request's Host: a host the flags serve, or one a
// ShortLinkDomain declares (the default domain's name stores as "").
func (s *server) servedDomain(host string) (string, bool) {
	if d, ok := s.hosts.domain(host); ok {
		return d, true
	}
	if s.domains == nil {
		return "", false
	}
	h := normalizeHost(host)
	if _, ok := s.domains.lookup(h); ok {
		return s.site.StoredDomain(h), true
	}
	return "", false
}

// notFoundURL is where an unknown code on r's host goes: the host's notFoundRedirect, else the
// redirector's --not-found-url, else nowhere (404).
func (s *server) notFoundURL(r *http.Request) string {
	if s.domains == nil { // a flood of unknown codes pays nothing for domains it has none of
		return s.notFound
	}
	if d, ok := s.domains.lookup(normalizeHost(r.Host)); ok && d.notFound != "" {
		return d.notFound
	}
	return s.notFound
}

// counted is handle for a path that was a (refused) code before domains were objects: the
// request is counted in shortlink_redirect_requests_total as then, unless it is answered and
// countServed is false (a robots.txt served is no redirect).
func (s *server) counted(h func(http.ResponseWriter, *http.Request) error, countServed bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		err := h(w, r)
		res := s.answer(w, r, err)
		if err != nil || countServed {
			s.metrics.observeRequest(res, s.since(start))
		}
	})
}

// root answers GET / on a served host: the host's rootRedirect, else 404 as before.
func (s *server) root(w http.ResponseWriter, r *http.Request) error {
	if _, ok := s.servedDomain(r.Host); !ok {
		return errUnknownHost
	}
	d, ok := s.domains.lookup(normalizeHost(r.Host))
	if !ok || d.root == "" {
		return errInvalidPath
	}
	return writeRedirect(w, http.StatusFound, d.root, s.noStoreCC)
}

// robots answers GET /robots.txt on a host a ShortLinkDomain declares; a host only the flags
// serve answers 404, as before domains were objects.
func (s *server) robots(w http.ResponseWriter, r *http.Request) error {
	if _, ok := s.servedDomain(r.Host); !ok {
		return errUnknownHost
	}
	d, ok := s.domains.lookup(normalizeHost(r.Host))
	if !ok {
		return errInvalidPath
	}
	h := w.Header()
	h[hdrContentType] = []string{"text/plain; charset=utf-8"}
	h[hdrCacheControl] = maxAgeControl(robotsMaxAge)
	_, err := w.Write([]byte(d.robots))
	return err
}

// robotsMaxAge lets crawlers keep a robots.txt a while, short enough that an edit reaches them
// the same day.
const robotsMaxAge = time.Hour
