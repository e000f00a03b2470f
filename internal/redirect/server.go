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
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/bots"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// DefaultPermanentMaxAge is how long clients may cache a 301 or 308: the redirector's
// --permanent-max-age unless it is given.
const DefaultPermanentMaxAge = time.Hour

// LinkResolver finds links: *Resolver.
type LinkResolver interface {
	Resolve(ctx context.Context, domain, code string) (links.Link, error)
}

// Config is what the operator of the redirector configures.
type Config struct {
	// Site holds the served hosts: the default domain (required) serves the links stored with
	// domain "", each further one the links stored under its name.
	Site links.Site
	// NotFoundURL, when set, is where unknown, suspended and not-yet-valid codes redirect (302)
	// instead of answering 404.
	NotFoundURL string
	// UnknownHostURL, when set, is where requests for a host not served redirect (302) instead
	// of answering 404.
	UnknownHostURL string
	// PermanentMaxAge is the Cache-Control max-age of 301 and 308 redirects, never past the
	// link's validUntil. Zero (or anything under a second) keeps them out of caches, as 302s
	// are: an operator who sets 0 means no caching, so zero is not a default here.
	PermanentMaxAge time.Duration
}

// Deps are what NewServer needs.
type Deps struct {
	// Links is required.
	Links LinkResolver
	// Visits receives every GET answered with a redirect; nil counts nothing.
	Visits VisitRecorder
	// Metrics defaults to metrics on a registry of their own.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Ready reports readiness for /_/readyz; nil means always ready. A draining pod returns false.
	Ready func() bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// API, when set, serves everything under /api/v1/ (the create API); nil answers 404 there.
	API http.Handler
	// VisitCounter, when set, is the count of people's visits that limited links (maxVisits)
	// share across replicas; nil counts in this replica alone.
	VisitCounter VisitCounter
	// VisitSeeds, when set, starts a limited link's shared count from url_stats.
	VisitSeeds VisitSeeds
	// Domains, when set, adds the hosts ShortLinkDomain objects declare to the flags' and
	// answers their /, /robots.txt and unknown codes; nil serves the flags' hosts alone.
	Domains *Domains
	Config  Config
	// Countries, when set, gives each visit its country from the client's full address,
	// before the stats anonymise it; nil looks nothing up.
	Countries CountryLookup
}

// apiPrefix is where the create API is served.
const apiPrefix = "/api/v1/"

type server struct {
	mux         *http.ServeMux
	links       LinkResolver
	visits      VisitRecorder
	metrics     *Metrics
	log         *slog.Logger
	ready       func() bool
	now         func() time.Time
	since       func(time.Time) time.Duration
	hosts       hosts
	site        links.Site
	notFound    string // a safe Location, or ""
	unknownHost string // a safe Location, or ""
	maxAge      time.Duration
	// Cache-Control values shared by every response: not cacheable, and permanent for maxAge.
	noStoreCC, permanentCC []string
	logGate                logThrottle
	api                    http.Handler
	bots                   *bots.Classifier // tells programs' visits from people's
	domains                *Domains
	limits                 *limiter // maxVisits, for limited links only
	// countries is nil without a geo database.
	countries CountryLookup
}

// NewServer returns the redirector's HTTP handler: GET and HEAD /{code} (and /{code}/rest for
// forwardPath links) on the served domains, QR images at /_/qr/{code} on them, /_/healthz and
// /_/readyz on any host, and /api/v1/ reserved for the create API. Metrics are
// served elsewhere (on their own port), from the registry Deps.Metrics was made with.
func NewServer(d Deps) http.Handler {
	s := &server{
		links: d.Links, visits: d.Visits, metrics: d.Metrics, log: d.Logger, ready: d.Ready, now: d.Now,
		maxAge: d.Config.PermanentMaxAge, api: d.API, bots: bots.Default(), domains: d.Domains,
		countries: d.Countries,
	}
	s.setDefaults()
	s.limits = newLimiter(d.VisitCounter, d.VisitSeeds, s.log)
	s.hosts, s.site = newHosts(d.Config.Site), d.Config.Site
	if d.Config.Site.DefaultDomain() == "" {
		s.log.Error("No default domain configured; serving only the further domains")
	}
	s.notFound = s.safeURL("not-found URL", d.Config.NotFoundURL)
	s.unknownHost = s.safeURL("unknown-host URL", d.Config.UnknownHostURL)
	s.noStoreCC, s.permanentCC = []string{noStore}, maxAgeControl(s.maxAge)
	s.routes()
	return s
}

func (s *server) setDefaults() {
	if s.metrics == nil {
		s.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.ready == nil {
		s.ready = func() bool { return true }
	}
	if s.now == nil {
		// time.Since reads only the monotonic clock, where time.Now reads it and the wall clock.
		s.now, s.since = time.Now, time.Since
	} else {
		s.since = func(t time.Time) time.Duration { return s.now().Sub(t) }
	}
	if s.visits == nil {
		s.visits = discardVisits{}
	}
}

// safeURL returns raw if it is a URL a Location may carry, else "" after logging why.
func (s *server) safeURL(what, raw string) string {
	if raw == "" {
		return ""
	}
	d := links.Link{Target: raw, RedirectType: http.StatusFound}.Decide(time.Time{}, "")
	if d.Outcome != links.Redirect {
		s.log.Error("Configured URL is not an http(s) URL of printable ASCII; answering 404 instead", "what", what)
		return ""
	}
	return d.Location
}

func (s *server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /{code}", s.serveCode)
	s.mux.HandleFunc("/", s.serveOther) // every other path or method: /{code}/rest, or not a code
	s.mux.Handle("GET /_/healthz", s.handle(s.healthz))
	s.mux.Handle("GET /_/readyz", s.handle(s.readyz))
	s.mux.Handle("GET /_/qr/{code}", s.handle(s.qr))
	s.mux.Handle("GET /{$}", s.counted(s.root, true))
	s.mux.Handle("GET /"+robotsPath, s.counted(s.robots, false))
	if s.api != nil {
		s.mux.Handle(apiPrefix, s.api)
	} else {
		s.mux.Handle(apiPrefix, s.handle(reserved))
	}
	s.mux.Handle("/api/v1", s.handle(reserved))
}

// ServeHTTP refuses paths that are not clean before ServeMux sees them: it would answer them
// with a redirect of its own to the cleaned path, and a shortener sends no redirect that is not
// a link's.
//
// A GET or HEAD of a one-segment path, which is nearly every request, goes straight to serve:
// it is what the mux would route to "GET /{code}", and skipping the mux saves its routing and
// the allocation of its path values.
//
// Only the create API reads a request body; every other request that announces one is answered
// without it (refuseBody).
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code, ok := codePath(r); ok && code != robotsPath {
		if r.ContentLength != 0 {
			refuseBody(w)
		}
		s.serve(w, r, code, "")
		return
	}
	if r.ContentLength != 0 && !s.takesBody(r) {
		refuseBody(w)
	}
	if r.Method != http.MethodConnect && !isCleanPath(r.URL.Path) {
		s.serveCode(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// takesBody reports whether r goes to the create API, the one handler here that reads bodies.
func (s *server) takesBody(r *http.Request) bool {
	return s.api != nil && strings.HasPrefix(r.URL.Path, apiPrefix) && isCleanPath(r.URL.Path)
}

// aLongTimeAgo is a read deadline already past: reads fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// refuseBody answers without the request's body and closes the connection afterwards. Left
// alone, net/http reads an unread body to its end after the handler returns (up to 256 KiB, to
// reuse the connection), and a chunked body that never arrives would hold the connection, and a
// graceful stop, forever: the connection is active, so ConnGuard leaves it to the handler. A
// deadline in the past makes those reads fail at once; "Connection: close" stops net/http from
// reading the rest as the next request.
func refuseBody(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(aLongTimeAgo) // fails only on a ResponseWriter without a conn (tests)
	w.Header()["Connection"] = []string{"close"}
}

// handle adapts a handler that returns an error to http.Handler, through the one mapping from
// errors to responses (answer).
func (s *server) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.answer(w, r, h(w, r))
	})
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeText(w, "ok\n")
}

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) error {
	if !s.ready() {
		return errNotReady
	}
	return writeText(w, "ok\n")
}

func reserved(http.ResponseWriter, *http.Request) error { return errReserved }

type discardVisits struct{}

func (discardVisits) Record(Visit) {}
