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
	"net/http"
	"net/netip"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// serveCode answers a request the mux routed to a code, and every request that cannot be one.
func (s *server) serveCode(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, r.PathValue("code"), "")
}

// serveOther answers every path the mux has no route for: /{code}/rest/of/path, which only a
// forwardPath link answers, and everything that cannot name a link at all.
func (s *server) serveOther(w http.ResponseWriter, r *http.Request) {
	code, rest := splitForwardPath(r.URL.EscapedPath())
	s.serve(w, r, code, rest)
}

// serve answers a request for code ("" when the path cannot name one), with rest the escaped
// path after the code ("" for /{code} alone). A request carrying the QR scan marker is answered
// as if it had not, and counted as a scan too.
func (s *server) serve(w http.ResponseWriter, r *http.Request, code, rest string) {
	start := s.now()
	query, scan := cutScanMarker(r.URL.RawQuery)
	res := s.answer(w, r, s.redirect(w, r, code, rest, query, start))
	s.metrics.observeRequest(res, s.since(start))
	if scan && r.Method == http.MethodGet {
		s.metrics.qrScan(res)
	}
}

// redirect answers with the link's redirect, or returns the error saying why it cannot: the
// host is not served, the path is not a code, there is no such link or it does not redirect
// now, or the lookup failed. Nothing is looked up for a request that cannot name a link.
func (s *server) redirect(w http.ResponseWriter, r *http.Request, code, rest, query string, now time.Time) error {
	domain, ok := s.servedDomain(r.Host)
	if !ok {
		return errUnknownHost
	}
	if !links.ValidCode(code) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return errInvalidPath
	}
	l, err := s.links.Resolve(r.Context(), domain, code)
	if err != nil {
		return err
	}
	d := l.DecidePath(now, rest, query)
	if d.Outcome == links.Redirect && l.MaxVisits > 0 && !s.allowVisit(r, domain, l) {
		d = l.Exhausted(rest, query)
	}
	switch d.Outcome {
	case links.Redirect:
	case links.Gone:
		return errGone
	case links.Invalid:
		return errUnsafeLink
	default:
		return errNotServed
	}
	if err := writeRedirect(w, d.Status, d.Location, s.cacheControl(l, d.Status, now)); err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		// The link's code, not the path's: that is a substring of the request line, query
		// included, which a visit held through a PostgreSQL outage would keep whole. The class
		// is decided here, where the prefetch headers still are (internal/bots: no allocation),
		// and so is the country, while the address is whole.
		ua, ip := r.UserAgent(), clientIP(r)
		s.visits.Record(Visit{
			Domain: domain, Code: l.Code, At: now, ClientIP: ip,
			UserAgent: ua, Referer: r.Referer(), Bot: s.bots.Classify(ua, r.Header).Bot(), Country: s.country(ip),
		})
	}
	return nil
}

// country is ip's country for the breakdowns, "" without a geo database: then it costs a
// nil check.
func (s *server) country(ip netip.Addr) string {
	if s.countries == nil {
		return ""
	}
	return s.countries.Country(ip)
}

// allowVisit reports whether limited link l still redirects to its target, counting a
// person's GET against its maxVisits; a program's visit or a HEAD only reads the count.
func (s *server) allowVisit(r *http.Request, domain string, l links.Link) bool {
	take := r.Method == http.MethodGet && !s.bots.Classify(r.UserAgent(), r.Header).Bot()
	return s.limits.allow(r.Context(), domain, l, take)
}

// cacheControl lets clients keep a permanent redirect for the configured max-age, but never
// past the link's validUntil, and keeps every other answer out of caches, so each click of a
// temporary link reaches us (and is counted). A limited link's redirects are never cached
// either: a browser that kept one would go on past maxVisits without asking.
func (s *server) cacheControl(l links.Link, status int, now time.Time) []string {
	if (status != http.StatusMovedPermanently && status != http.StatusPermanentRedirect) || l.MaxVisits > 0 {
		return s.noStoreCC
	}
	if l.ValidUntil.IsZero() || !now.Before(l.ValidUntil) {
		return s.permanentCC
	}
	if left := l.ValidUntil.Sub(now); left < s.maxAge {
		return maxAgeControl(left)
	}
	return s.permanentCC
}

// clientIP is the peer's address. Behind a proxy that is the proxy's; trusting a forwarded
// header is a configuration question for the deployment, not something to guess here.
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
