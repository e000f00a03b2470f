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
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func FuzzNormalizeHost(f *testing.F) {
	for _, seed := range []string{"sho.rt", "SHO.RT:8080", "sho.rt.", "[::1]:80", "[::1", "a:b:c", ":80", "", "Ünï.example", "x..:1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, host string) {
		got := normalizeHost(host)
		if again := normalizeHost(got); again != got {
			t.Fatalf("normalizeHost(%q) = %q, but normalizing that gives %q", host, got, again)
		}
		if strings.ContainsAny(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || strings.HasSuffix(got, ".") {
			t.Fatalf("normalizeHost(%q) = %q: upper-case or a trailing dot left", host, got)
		}
		if !strings.HasPrefix(got, "[") && strings.Contains(got, ":") {
			t.Fatalf("normalizeHost(%q) = %q: port left", host, got)
		}
		if d, err := links.NormalizeDomain(got); err == nil && got != d {
			t.Fatalf("normalizeHost(%q) = %q, a valid domain that NormalizeDomain writes %q", host, got, d)
		}
	})
}

// isCleanPath must agree with what ServeMux does: it redirects exactly the paths whose cleaned
// form (path.Clean, keeping a trailing slash) differs.
func FuzzIsCleanPath(f *testing.F) {
	for _, seed := range []string{"/", "/abc", "//abc", "/a/../b", "/a/./b", "/abc/", "/a//", "", "abc", "/.", "/..", "/a/b/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := false
		if strings.HasPrefix(p, "/") {
			clean := path.Clean(p)
			if strings.HasSuffix(p, "/") && clean != "/" {
				clean += "/"
			}
			want = clean == p
		}
		if got := isCleanPath(p); got != want {
			t.Fatalf("isCleanPath(%q) = %v, want %v", p, got, want)
		}
	})
}

// mapResolver serves fixed links and fails the test when asked for something no request should
// ever reach a resolver with.
type mapResolver struct {
	t     *testing.T
	links map[string]links.Link
}

func (m mapResolver) Resolve(_ context.Context, domain, code string) (links.Link, error) {
	if !links.ValidCode(code) || (domain != "" && domain != "go.example.com") {
		m.t.Fatalf("lookup of (%q, %q), which no request should reach", domain, code)
	}
	if l, ok := m.links[domain+"/"+code]; ok {
		return l, nil
	}
	return links.Link{}, links.ErrNotFound
}

// Any host, path and query: only a valid code on a served host is looked up, nothing fails on
// our side, and a Location is only ever the link's target (with the query appended).
func FuzzServeCode(f *testing.F) {
	f.Add("sho.rt", "/abc", "x=1")
	f.Add("SHO.RT:443", "/abc", "a=%0d%0a")
	f.Add("go.example.com", "/abc/", "")
	f.Add("evil", "//abc", "")
	f.Add("sho.rt", "/a/../abc", "#")
	f.Add("sho.rt", "/_/readyz", "")
	known := map[string]links.Link{
		"/abc": {Code: "abc", Target: "https://example.com/t?k=v#frag", RedirectType: 302, ForwardQuery: true, Version: 1},
	}
	site := links.MustSite("sho.rt", "go.example.com")
	f.Fuzz(func(t *testing.T, host, p, query string) {
		h := NewServer(Deps{
			Links: mapResolver{t: t, links: known}, Config: Config{Site: site},
			Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
		})
		req := httptest.NewRequest("GET", "/", nil)
		req.Host, req.URL = host, &url.URL{Path: p, RawQuery: query}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusFound, http.StatusNotFound, http.StatusOK:
		default:
			t.Fatalf("GET %q on %q = %d", p, host, rec.Code)
		}
		loc := rec.Header().Get("Location")
		if loc != "" && (!headerSafe(loc) || !strings.HasPrefix(loc, "https://example.com/t?k=v") || !strings.HasSuffix(loc, "#frag")) {
			t.Fatalf("GET %q?%q on %q: Location %q", p, query, host, loc)
		}
	})
}

// The response writer never sends what a header cannot carry, and sends the rest unchanged.
func FuzzWriteRedirect(f *testing.F) {
	for _, seed := range []string{"https://example.com/", "https://e.com/\r\nSet-Cookie: a", "http://x/\x00", "https://ü.example/", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, location string) {
		rec := httptest.NewRecorder()
		err := writeRedirect(rec, http.StatusFound, location, []string{noStore})
		if err != nil {
			if len(rec.Header()) != 0 || rec.Code != http.StatusOK {
				t.Fatalf("refused %q but wrote %d %v", location, rec.Code, rec.Header())
			}
			return
		}
		if got := rec.Header().Get("Location"); got != location || strings.ContainsAny(got, "\r\n\x00") || rec.Code != http.StatusFound {
			t.Fatalf("writeRedirect(%q) sent %d Location %q", location, rec.Code, got)
		}
	})
}

// Whatever a row holds and whatever a client sends as a query, a redirect that links.Link.Decide
// decides can be written, and what is written is an http(s) URL without control characters.
func FuzzResolveAndWrite(f *testing.F) {
	f.Add("https://example.com/a?b=c#d", "x=1&y=2")
	f.Add("javascript:alert(1)", "")
	f.Add("https://example.com/\r\nX: y", "a\r\nb")
	f.Add("HTTP://EXAMPLE.COM", "q=%20 #")
	f.Fuzz(func(t *testing.T, target, query string) {
		l := links.Link{Code: "c", Target: target, RedirectType: http.StatusFound, ForwardQuery: true}
		d := l.Decide(time.Unix(1_800_000_000, 0), query)
		if d.Outcome != links.Redirect {
			return
		}
		rec := httptest.NewRecorder()
		if err := writeRedirect(rec, d.Status, d.Location, []string{noStore}); err != nil {
			t.Fatalf("Resolve(%q, %q) decided Location %q, which the writer refuses: %v", target, query, d.Location, err)
		}
		loc := strings.ToLower(rec.Header().Get("Location"))
		if !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") {
			t.Fatalf("Location %q is not http(s)", loc)
		}
	})
}
