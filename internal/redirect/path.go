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
	"strings"
)

// isCleanPath reports whether ServeMux would route p as it is, rather than answer with a
// redirect to a cleaned path: p starts with '/' and has no empty, "." or ".." segment (a
// trailing '/' is allowed). It allocates nothing.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for rest := p[1:]; ; {
		seg, next, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." || (seg == "" && more) {
			return false
		}
		if !more {
			return true
		}
		rest = next
	}
}

// splitForwardPath splits an escaped path /{code}/rest into the code and the rest from its '/'
// on; a path of one segment has no code here (the mux routes those to "GET /{code}"). An
// escaped code never matches CodePattern, so it is left escaped.
func splitForwardPath(p string) (code, rest string) {
	if len(p) < 2 || p[0] != '/' {
		return "", ""
	}
	i := strings.IndexByte(p[1:], '/')
	if i < 0 {
		return "", ""
	}
	return p[1 : 1+i], p[1+i:]
}

// scanMarker is the query parameter a QR code's URL carries (/{code}?_qr=1), so a scan can be
// told from a click. The redirector takes it out before anything reads the query.
const scanMarker = "_qr=1"

// cutScanMarker returns the raw query q without its first scanMarker parameter, and whether
// there was one. It allocates only when the marker sits between two other parameters.
func cutScanMarker(q string) (string, bool) {
	if q == "" {
		return q, false
	}
	for i := 0; i <= len(q); {
		end := strings.IndexByte(q[i:], '&')
		if end < 0 {
			end = len(q)
		} else {
			end += i
		}
		if q[i:end] == scanMarker {
			return joinQuery(q[:i], q[min(end+1, len(q)):]), true
		}
		i = end + 1
	}
	return q, false
}

// joinQuery joins the parameters before a removed one (ending in '&', or empty) and after it.
func joinQuery(before, after string) string {
	switch {
	case before == "":
		return after
	case after == "":
		return before[:len(before)-1]
	}
	return before + after
}

// codePath returns the segment of a GET or HEAD request for a one-segment path, as the mux's
// "GET /{code}" pattern would match it. A path with escapes (URL.RawPath set) is left to the
// mux, which matches escaped segments and unescapes the value, as are "/." and "/..", which are
// not clean.
func codePath(r *http.Request) (string, bool) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawPath != "" {
		return "", false
	}
	p := r.URL.Path
	if len(p) < 2 || p[0] != '/' || strings.IndexByte(p[1:], '/') >= 0 || p == "/." || p == "/.." {
		return "", false
	}
	return p[1:], true
}
