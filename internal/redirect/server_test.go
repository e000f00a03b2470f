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

package redirect_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

type response struct {
	status       int
	location     string
	cacheControl string
	visits       int
}

// declareResponseLinks declares one link per response rule.
func declareResponseLinks(f *fixture) {
	now := f.now
	with := func(l links.Link, edit func(*links.Link)) links.Link { edit(&l); return l }
	f.declare(link("plain", "https://example.com/plain"))
	f.declare(with(link("perm", "https://example.com/perm"), func(l *links.Link) { l.RedirectType = 301 }))
	f.declare(with(link("perm-until", "https://example.com/pu"), func(l *links.Link) {
		l.RedirectType, l.ValidUntil = 308, now.Add(10*time.Minute)
	}))
	f.declare(with(link("perm-ending", "https://example.com/pe"), func(l *links.Link) {
		l.RedirectType, l.ValidUntil = 301, now.Add(500*time.Millisecond)
	}))
	f.declare(with(link("temp307", "https://example.com/t"), func(l *links.Link) { l.RedirectType = 307 }))
	f.declare(with(link("fwd", "https://example.com/a?x=1#frag"), func(l *links.Link) { l.ForwardQuery = true }))
	f.declare(with(link("go", "https://docs.example.com/guide?x=1#top"), func(l *links.Link) { l.ForwardPath, l.ForwardQuery = true, true }))
	f.declare(with(link("gopath", "https://docs.example.com/"), func(l *links.Link) { l.ForwardPath = true }))
	f.declare(with(link("later", "https://example.com/later"), func(l *links.Link) { l.ValidSince = now.Add(time.Hour) }))
	f.declare(with(link("expired", "https://example.com/old"), func(l *links.Link) { l.ValidUntil = now.Add(-time.Second) }))
	f.declare(with(link("moved", "https://example.com/old"), func(l *links.Link) {
		l.ValidUntil, l.ExpiredTarget = now.Add(-time.Hour), "https://example.com/new"
	}))
	f.declare(with(link("suspended", "https://example.com/s"), func(l *links.Link) { l.Suspended = true }))
	f.declare(with(link("docs", "https://docs.example.com/"), func(l *links.Link) { l.Domain = otherHost }))
	// Rows and entries edited by hand, bypassing every validation.
	f.upsert(link("tampered", "https://example.com/ok"))
	f.exec(`UPDATE urls SET target = 'javascript:alert(1)', version = nextval('urls_version_seq') WHERE code = 'tampered'`)
	f.upsert(link("crlf", "https://example.com/ok"))
	f.exec(`UPDATE urls SET target = E'https://example.com/\r\nSet-Cookie: a=b', version = nextval('urls_version_seq')
		WHERE code = 'crlf'`)
	if err := f.rdb.Set(context.Background(), cache.KeyPrefix+":tampered-redis",
		`7|{"t":"javascript:alert(document.cookie)","r":302}`, 0).Err(); err != nil {
		f.t.Fatal(err)
	}
}

type responseCase struct {
	name, method, host, target string
	want                       response
}

// responseCases are requests for the links of declareResponseLinks and what they must get.
func responseCases() []responseCase {
	const noStore = "private, no-store"
	redirected := func(status int, location, cc string) response { return response{status, location, cc, 1} }
	refused := func(status int) response { return response{status, "", noStore, 0} }
	return []responseCase{
		{"temporary redirect", "GET", testHost, "/plain", redirected(302, "https://example.com/plain", noStore)},
		{"host lower-cased, port stripped", "GET", "SHO.RT:8080", "/plain", redirected(302, "https://example.com/plain", noStore)},
		{"HEAD answers but does not count", "HEAD", testHost, "/plain", response{302, "https://example.com/plain", noStore, 0}},
		{"query dropped without forwardQuery", "GET", testHost, "/plain?utm=x", redirected(302, "https://example.com/plain", noStore)},
		{"permanent: configured max-age", "GET", testHost, "/perm", redirected(301, "https://example.com/perm", "public, max-age=3600")},
		{"permanent: max-age capped by validUntil", "GET", testHost, "/perm-until", redirected(308, "https://example.com/pu", "public, max-age=600")},
		{"permanent: validUntil too near to cache", "GET", testHost, "/perm-ending", redirected(301, "https://example.com/pe", noStore)},
		{"307 is not cached", "GET", testHost, "/temp307", redirected(307, "https://example.com/t", noStore)},
		{"forwardQuery before the fragment", "GET", testHost, "/fwd?utm=x&b=2", redirected(302, "https://example.com/a?x=1&utm=x&b=2#frag", noStore)},
		{"QR scan marker stripped before forwardQuery", "GET", testHost, "/fwd?_qr=1&utm=x", redirected(302, "https://example.com/a?x=1&utm=x#frag", noStore)},
		{"QR scan marker stripped at the end", "GET", testHost, "/fwd?utm=x&_qr=1", redirected(302, "https://example.com/a?x=1&utm=x#frag", noStore)},
		{"QR scan marker stripped between", "GET", testHost, "/fwd?a=1&_qr=1&b=2", redirected(302, "https://example.com/a?x=1&a=1&b=2#frag", noStore)},
		{"QR scan marker alone", "GET", testHost, "/fwd?_qr=1", redirected(302, "https://example.com/a?x=1#frag", noStore)},
		{"a parameter like the marker is kept", "GET", testHost, "/fwd?_qr=10", redirected(302, "https://example.com/a?x=1&_qr=10#frag", noStore)},
		{"forwardPath: path then query, before the fragment", "GET", testHost, "/go/a/b?q=1", redirected(302, "https://docs.example.com/guide/a/b?x=1&q=1#top", noStore)},
		{"forwardPath: the code alone as today", "GET", testHost, "/go", redirected(302, "https://docs.example.com/guide?x=1#top", noStore)},
		{"forwardPath: trailing slash kept", "GET", testHost, "/go/", redirected(302, "https://docs.example.com/guide/?x=1#top", noStore)},
		{"forwardPath: scan marker stripped", "GET", testHost, "/go/a?_qr=1", redirected(302, "https://docs.example.com/guide/a?x=1#top", noStore)},
		{"forwardPath: no double slash", "GET", testHost, "/gopath/a/b/", redirected(302, "https://docs.example.com/a/b/", noStore)},
		{"forwardPath: escapes kept as sent", "GET", testHost, "/gopath/a%20b/%E2%9C%93/c%2Fd", redirected(302, "https://docs.example.com/a%20b/%E2%9C%93/c%2Fd", noStore)},
		{"forwardPath: escaped ? and # stay in the path", "GET", testHost, "/gopath/%3Fx=1%23y", redirected(302, "https://docs.example.com/%3Fx=1%23y", noStore)},
		{"forwardPath: unsafe bytes encoded", "GET", testHost, "/gopath/a'\"<>{}", redirected(302, "https://docs.example.com/a%27%22%3C%3E%7B%7D", noStore)},
		{"forwardPath: query dropped without forwardQuery", "GET", testHost, "/gopath/a?q=1", redirected(302, "https://docs.example.com/a", noStore)},
		{"forwardPath: HEAD answers but does not count", "HEAD", testHost, "/go/a", response{302, "https://docs.example.com/guide/a?x=1#top", noStore, 0}},
		{"forwardPath: escaped dot-dot refused", "GET", testHost, "/gopath/x/%2e%2e/admin", refused(404)},
		{"forwardPath: dot-dot refused", "GET", testHost, "/gopath/x/../../admin", refused(404)},
		{"forwardPath: empty segment refused", "GET", testHost, "/gopath/a//b", refused(404)},
		{"forwardPath: POST refused", "POST", testHost, "/gopath/a", refused(404)},
		{"forwardPath: escaped code not matched", "GET", testHost, "/%67opath/a", refused(404)},
		{"path after an unknown code", "GET", testHost, "/nope/a", refused(404)},
		{"not valid yet", "GET", testHost, "/later", refused(404)},
		{"expired", "GET", testHost, "/expired", refused(410)},
		{"expired with expiredTarget", "GET", testHost, "/moved", redirected(302, "https://example.com/new", noStore)},
		{"suspended", "GET", testHost, "/suspended", refused(404)},
		{"unknown code", "GET", testHost, "/nope", refused(404)},
		{"served domain selects its links", "GET", otherHost, "/docs", redirected(302, "https://docs.example.com/", noStore)},
		{"code of another domain", "GET", testHost, "/docs", refused(404)},
		{"unknown host", "GET", "evil.example", "/plain", refused(404)},
		{"tampered row: javascript target", "GET", testHost, "/tampered", refused(500)},
		{"tampered row: CR LF in target", "GET", testHost, "/crlf", refused(500)},
		{"tampered Redis entry", "GET", testHost, "/tampered-redis", refused(500)},
		{"path with a dot", "GET", testHost, "/plain.html", refused(404)},
		{"code starting with _", "GET", testHost, "/_plain", refused(404)},
		{"two segments", "GET", testHost, "/plain/x", refused(404)},
		{"trailing slash", "GET", testHost, "/plain/", refused(404)},
		{"root", "GET", testHost, "/", refused(404)},
		{"unclean path", "GET", testHost, "//plain", refused(404)},
		{"dot-dot path", "GET", testHost, "/x/../plain", refused(404)},
		{"escaped slash", "GET", testHost, "/pl%2Fain", refused(404)},
		{"POST to a code", "POST", testHost, "/plain", refused(404)},
		{"create API reserved", "POST", testHost, "/api/v1/links", refused(404)},
		{"create API root reserved", "GET", testHost, "/api/v1", refused(404)},
	}
}

func TestResponseRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	declareResponseLinks(f)
	h := f.server(f.resolver(redirect.Options{}, true, nil), redirect.Config{PermanentMaxAge: time.Hour})
	tests := responseCases()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.visits.count()
			rec := get(h, tt.method, tt.host, tt.target)
			got := response{rec.Code, rec.Header().Get("Location"), rec.Header().Get("Cache-Control"), f.visits.count() - before}
			if got != tt.want {
				t.Errorf("%s %s%s = %+v, want %+v", tt.method, tt.host, tt.target, got, tt.want)
			}
			for name, values := range rec.Header() {
				if strings.ContainsAny(strings.Join(values, ""), "\r\n") {
					t.Errorf("header %s carries CR or LF: %q", name, values)
				}
			}
		})
	}
}

func TestVisitRecordsTheRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("v", "https://example.com/v"))
	h := f.server(f.resolver(redirect.Options{}, false, nil), redirect.Config{})
	req := httptest.NewRequest("GET", "/v", nil)
	req.Host = testHost + ":443"
	req.RemoteAddr = "[::ffff:192.0.2.7]:51000"
	req.Header.Set("User-Agent", "agent/1.0")
	req.Header.Set("Referer", "https://ref.example/")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if f.visits.count() != 1 {
		t.Fatalf("visits = %d, want 1", f.visits.count())
	}
	v := f.visits.last()
	if v.Domain != "" || v.Code != "v" || v.ClientIP.String() != "192.0.2.7" || v.UserAgent != "agent/1.0" ||
		v.Referer != "https://ref.example/" || !v.At.Equal(f.now) {
		t.Fatalf("visit = %+v", v)
	}
}

// Each recorded visit carries its class, decided from the request's headers: a browser is a
// person; a preview fetcher, a prefetch and a request without User-Agent are programs.
func TestVisitCarriesItsClass(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("v", "https://example.com/v"))
	h := f.server(f.resolver(redirect.Options{}, false, nil), redirect.Config{})
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, tt := range []struct {
		name    string
		headers []string
		bot     bool
	}{
		{"Chrome", []string{"User-Agent", chrome}, false},
		{"Slack", []string{"User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}, true},
		{"Chrome prefetching", []string{"User-Agent", chrome, "Sec-Purpose", "prefetch"}, true},
		{"no User-Agent", nil, true},
	} {
		req := httptest.NewRequest("GET", "/v", nil)
		req.Host = testHost
		req.Header.Del("User-Agent")
		for i := 0; i < len(tt.headers); i += 2 {
			req.Header.Set(tt.headers[i], tt.headers[i+1])
		}
		n := f.visits.count()
		h.ServeHTTP(httptest.NewRecorder(), req)
		if f.visits.count() != n+1 {
			t.Fatalf("%s: no visit recorded", tt.name)
		}
		if v := f.visits.last(); v.Bot != tt.bot {
			t.Errorf("%s: visit recorded with Bot %v, want %v", tt.name, v.Bot, tt.bot)
		}
	}
}

func TestNotFoundAndUnknownHostURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	declareResponseLinks(f)
	h := f.server(f.resolver(redirect.Options{}, false, nil), redirect.Config{
		Site: links.MustSite(testHost), NotFoundURL: "https://sho.rt/help/not-found", UnknownHostURL: "https://www.example.com/",
	})
	tests := []struct {
		name, host, path string
		want             response
	}{
		{"unknown code", testHost, "/nope", response{302, "https://sho.rt/help/not-found", "private, no-store", 0}},
		{"suspended", testHost, "/suspended", response{302, "https://sho.rt/help/not-found", "private, no-store", 0}},
		{"not valid yet", testHost, "/later", response{302, "https://sho.rt/help/not-found", "private, no-store", 0}},
		{"expired stays 410", testHost, "/expired", response{410, "", "private, no-store", 0}},
		{"invalid path stays 404", testHost, "/a.b", response{404, "", "private, no-store", 0}},
		{"unknown host", "evil.example", "/plain", response{302, "https://www.example.com/", "private, no-store", 0}},
	}
	for _, tt := range tests {
		before := f.visits.count()
		rec := get(h, "GET", tt.host, tt.path)
		got := response{rec.Code, rec.Header().Get("Location"), rec.Header().Get("Cache-Control"), f.visits.count() - before}
		if got != tt.want {
			t.Errorf("%s: GET %s%s = %+v, want %+v", tt.name, tt.host, tt.path, got, tt.want)
		}
	}
}

// A request that cannot name a link is answered without asking any tier. /{code}/rest can
// name a forwardPath link, so only a first segment that is no code is refused here.
func TestRefusedBeforeAnyLookup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{}, false, nil), redirect.Config{})
	lookups := func() float64 {
		var n float64
		for _, result := range []string{"hit", "miss", "negative", "error"} {
			n += f.metric("shortlink_cache_requests_total", map[string]string{"tier": "local", "result": result})
		}
		return n
	}
	for _, target := range []string{"/a.b", "/_x", "/" + strings.Repeat("a", 65), "/a%00b", "/a.b/c", "/_x/y", "/"} {
		if rec := get(h, "GET", testHost, target); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, rec.Code)
		}
	}
	if rec := get(h, "GET", "unknown.example", "/valid"); rec.Code != http.StatusNotFound {
		t.Errorf("GET on an unknown host = %d, want 404", rec.Code)
	}
	if n := lookups(); n != 0 {
		t.Fatalf("%v lookups for requests that cannot name a link, want 0", n)
	}
	if n := f.metric("shortlink_redirect_requests_total", map[string]string{"result": "invalid"}); n != 8 {
		t.Fatalf(`shortlink_redirect_requests_total{result="invalid"} = %v, want 8`, n)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	ready := true
	h := redirect.NewServer(redirect.Deps{
		Links: unreachable{t}, Ready: func() bool { return ready }, Config: redirect.Config{Site: links.MustSite(testHost)},
	})
	for _, host := range []string{testHost, "10.0.0.7:8080"} { // kubelet probes by pod IP
		if rec := get(h, "GET", host, "/_/healthz"); rec.Code != http.StatusOK {
			t.Errorf("healthz on %s = %d", host, rec.Code)
		}
		if rec := get(h, "GET", host, "/_/readyz"); rec.Code != http.StatusOK {
			t.Errorf("readyz on %s = %d", host, rec.Code)
		}
	}
	ready = false
	if rec := get(h, "GET", testHost, "/_/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining = %d, want 503", rec.Code)
	}
	if rec := get(h, "GET", testHost, "/_/healthz"); rec.Code != http.StatusOK {
		t.Errorf("healthz while draining = %d, want 200", rec.Code)
	}
}

// unreachable is a LinkResolver for tests that must not look anything up.
type unreachable struct{ t *testing.T }

func (u unreachable) Resolve(context.Context, string, string) (links.Link, error) {
	u.t.Error("unexpected lookup")
	return links.Link{}, links.ErrNotFound
}
