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
	"errors"
	"net/http"
	"strconv"
	"time"
)

const noStore = "private, no-store"

// Header values are set by direct map assignment with keys already canonical, which saves
// http.Header.Set its canonicalisation on every request.
const (
	hdrLocation     = "Location"
	hdrCacheControl = "Cache-Control"
	hdrContentType  = "Content-Type"
)

var errUnsafeLocation = errors.New("refusing to send a Location with control or non-ASCII bytes")

// writeRedirect sends a redirect without a body. location comes from links.Decision, which
// guarantees an http(s) URL of printable ASCII; the check here is the last line of defence, so
// that no change elsewhere can ever put CR or LF (a header injection) into a response.
//
// cacheControl is a header value slice, so the server can hand the same one to every response
// (net/http copies header values before writing them and never changes them in place).
func writeRedirect(w http.ResponseWriter, status int, location string, cacheControl []string) error {
	if !headerSafe(location) || len(cacheControl) != 1 || !headerSafe(cacheControl[0]) {
		return errUnsafeLocation
	}
	h := w.Header()
	h[hdrLocation] = []string{location}
	h[hdrCacheControl] = cacheControl
	w.WriteHeader(status)
	return nil
}

// headerSafe reports whether s is non-empty printable ASCII.
func headerSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// writeStatus sends a bodiless answer that no cache keeps.
func writeStatus(w http.ResponseWriter, status int) {
	w.Header()[hdrCacheControl] = []string{noStore}
	w.WriteHeader(status)
}

func writeText(w http.ResponseWriter, body string) error {
	h := w.Header()
	h[hdrContentType] = []string{"text/plain; charset=utf-8"}
	h[hdrCacheControl] = []string{noStore}
	_, err := w.Write([]byte(body))
	return err
}

// maxAgeControl is the Cache-Control of a permanent redirect cacheable for d, rounded down to
// whole seconds; under a second it is not cacheable at all.
func maxAgeControl(d time.Duration) []string {
	secs := int64(d / time.Second)
	if secs < 1 {
		return []string{noStore}
	}
	return []string{"public, max-age=" + strconv.FormatInt(secs, 10)}
}
