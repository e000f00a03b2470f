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
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/geotest"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// BenchmarkServeFromMemory measures the whole handler for links held in memory: routing, host
// and code checks, the in-process cache, the decision, the response and the metrics. It is
// the part of a redirect that is ours; make bench measures the rest end to end.
//
// Run: go test -run '^$' -bench ServeFromMemory -benchmem ./internal/redirect/
func BenchmarkServeFromMemory(b *testing.B) { benchServeFromMemory(b, nil, nil) }

// BenchmarkServeFromMemoryGeo is BenchmarkServeFromMemory with a geo database (a tiny one:
// a real one's tree is deeper, some 30 nodes for an IPv4 address against 24 here), so each
// visit's country is looked up: what --geoip-database costs a redirect.
func BenchmarkServeFromMemoryGeo(b *testing.B) {
	geo, err := OpenGeoDatabase(geotest.CountryDB(b, map[netip.Prefix]string{netip.MustParsePrefix("192.0.2.0/24"): "NZ"}))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = geo.Close() }()
	benchServeFromMemory(b, nil, geo)
}

// BenchmarkServeFromMemoryBrowser is BenchmarkServeFromMemory with the headers a desktop
// Chrome sends on a click, so the visit's classification reads a real User-Agent.
func BenchmarkServeFromMemoryBrowser(b *testing.B) {
	benchServeFromMemory(b, http.Header{
		"User-Agent":      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Sec-Fetch-Mode":  {"navigate"},
		"Sec-Fetch-Dest":  {"document"},
	}, nil)
}

func benchServeFromMemory(b *testing.B, header http.Header, countries CountryLookup) {
	st := memStore{}
	for i := range 1000 {
		code := fmt.Sprintf("c%d", i)
		st[code] = links.Link{Code: code, Target: "https://example.com/" + code, RedirectType: http.StatusFound, Version: 1}
	}
	res := NewResolver(ResolverDeps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer res.Close()
	h := NewServer(Deps{Links: res, Countries: countries, Config: Config{Site: links.MustSite("sho.rt")}})
	reqs := make([]*http.Request, 0, len(st))
	for code := range st {
		r := httptest.NewRequest("GET", "/"+code, nil)
		r.Host = "sho.rt"
		for k, v := range header {
			r.Header[k] = v
		}
		reqs = append(reqs, r)
		h.ServeHTTP(httptest.NewRecorder(), r) // warm the in-process cache
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		for i := 0; pb.Next(); i++ {
			clear(w.h)
			h.ServeHTTP(w, reqs[i%len(reqs)])
			if w.status != http.StatusFound {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}

// memStore is a DBTier in memory, so the benchmark measures the handler, not PostgreSQL.
type memStore map[string]links.Link

func (m memStore) Lookup(_ context.Context, _, code string) (links.Link, error) {
	if l, ok := m[code]; ok {
		return l, nil
	}
	return links.Link{}, links.ErrNotFound
}

func (memStore) Settled(context.Context) (int64, error) { return 0, nil }
func (memStore) RecentStart(context.Context, int64) (int64, bool, error) {
	return 0, false, nil
}
func (memStore) Feed(context.Context, []store.Change, store.FeedPosition, int) ([]store.Change, error) {
	return nil, nil
}

type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(status int)      { w.status = status }
