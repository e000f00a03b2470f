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
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// A code is a slice of the request's path, and the path of its whole request line, query
// included (up to a megabyte). What outlives the request — the caches' keys and entries, a
// visit held while PostgreSQL is down — must not be such a slice, or it keeps the line alive:
// a flood of long requests for unknown codes would fill the negative cache with megabytes each,
// and held visits would hold far more than the bytes they are counted for.
func TestNothingKeptIsASliceOfTheRequestLine(t *testing.T) {
	t.Parallel()
	st := memStore{"known": {Code: "known", Target: "https://example.com/", RedirectType: http.StatusFound, Version: 1}}
	res := NewResolver(ResolverDeps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer res.Close()
	visits := &keptVisits{}
	h := NewServer(Deps{Links: res, Visits: visits, Config: Config{Site: links.MustSite("sho.rt")}})

	query := "?q=" + strings.Repeat("x", 64<<10)
	lines := make([]string, 0, 2)
	for _, target := range []string{"/known" + query, "/unknown" + query} {
		r := httptest.NewRequest(http.MethodGet, target, nil) // parsed from a request line, as a server does
		r.Host = "sho.rt"
		h.ServeHTTP(httptest.NewRecorder(), r)
		lines = append(lines, r.RequestURI)
	}

	kept := cachedCodes(res.local) // the key and the entry share the code's bytes in the chunk
	for k := range res.negative.c.Keys() {
		kept = append(kept, k.code)
	}
	for _, v := range visits.all() {
		kept = append(kept, v.Code)
	}
	if len(kept) != 3 {
		t.Fatalf("kept %q; want the known link's entry, the unknown code, a visit", kept)
	}
	for _, s := range kept {
		for _, line := range lines {
			if within(s, line) {
				t.Errorf("%q is kept as a slice of a %d-byte request line", s, len(line))
			}
		}
	}
}

// within reports whether s's bytes lie inside whole's.
func within(s, whole string) bool {
	// Only addresses are compared; nothing is read through them.
	p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(whole))) //nolint:gosec // see above
	return len(s) > 0 && p >= start && p < start+uintptr(len(whole))
}

// keptVisits keeps every visit, as the aggregator does while PostgreSQL is down.
type keptVisits struct {
	mu sync.Mutex
	v  []Visit
}

func (k *keptVisits) Record(v Visit) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.v = append(k.v, v)
}

func (k *keptVisits) all() []Visit {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Visit(nil), k.v...)
}
