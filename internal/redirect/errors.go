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
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Why a request is not answered with a redirect. Handlers return these (or a resolver's
// error); answer alone turns them into responses.
var (
	errUnknownHost = errors.New("host not served")
	errInvalidPath = errors.New("path cannot be a short code")
	errReserved    = errors.New("path reserved for the create API")
	errNotServed   = fmt.Errorf("link suspended or not valid yet: %w", links.ErrNotFound)
	errGone        = errors.New("link expired")
	errUnsafeLink  = errors.New("stored link cannot be served safely")
	errNotReady    = errors.New("not ready")
)

// answer writes the response for err, unless err is nil (the handler answered), and returns
// the `result` label. It is the one place that maps errors to statuses, and the one place that
// logs them: only failures on our side are logged (at most one a second), never a client's
// unknown code.
func (s *server) answer(w http.ResponseWriter, r *http.Request, err error) result {
	switch {
	case err == nil:
		return resultRedirect
	case writeJSONError(w, err):
		return resultInvalid
	case errors.Is(err, errUnknownHost):
		s.notFoundOr(w, s.unknownHost)
		return resultInvalid
	case errors.Is(err, errInvalidPath), errors.Is(err, errReserved):
		writeStatus(w, http.StatusNotFound)
		return resultInvalid
	case errors.Is(err, links.ErrNotFound):
		s.notFoundOr(w, s.notFoundURL(r))
		return resultNotFound
	case errors.Is(err, errGone):
		writeStatus(w, http.StatusGone)
		return resultGone
	case errors.Is(err, errNotReady):
		writeStatus(w, http.StatusServiceUnavailable)
		return resultError
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		writeStatus(w, http.StatusServiceUnavailable)
		return resultError
	case errors.Is(err, errShed):
		// A flood, not a failure: counted, not logged.
		w.Header()["Retry-After"] = []string{"1"}
		writeStatus(w, http.StatusServiceUnavailable)
		return resultShed
	case unavailable(err):
		w.Header()["Retry-After"] = []string{"1"}
		writeStatus(w, http.StatusServiceUnavailable)
		if s.logGate.allow(s.now()) {
			s.log.Warn("Could not resolve link: a dependency is unavailable", "path", r.URL.Path, "error", err)
		}
		return resultError
	}
	writeStatus(w, http.StatusInternalServerError)
	if s.logGate.allow(s.now()) {
		s.log.Error("Could not answer request", "path", r.URL.Path, "error", err)
	}
	return resultError
}

// jsonError is a refusal of a request that is not a redirect (a QR image): a client reading it
// is a program, so it gets the create API's body, {"error": …, "field": …}, naming what it got
// wrong.
type jsonError struct {
	status     int
	field, msg string
}

// writeJSONError answers err when it is a *jsonError (handlers return them unwrapped), and
// reports whether it did. A type assertion rather than errors.As: a target for errors.As
// escapes to the heap, which would cost every redirect an allocation.
func writeJSONError(w http.ResponseWriter, err error) bool {
	je, ok := err.(*jsonError) //nolint:errorlint // never wrapped, see above
	if ok {
		je.write(w)
	}
	return ok
}

func (e *jsonError) Error() string { return e.field + ": " + e.msg }

func (e *jsonError) write(w http.ResponseWriter) {
	body, _ := json.Marshal(struct { //nolint:errchkjson // two strings cannot fail
		Error string `json:"error"`
		Field string `json:"field"`
	}{e.msg, e.field})
	h := w.Header()
	h[hdrContentType] = []string{"application/json"}
	h[hdrCacheControl] = []string{noStore}
	w.WriteHeader(e.status)
	_, _ = w.Write(append(body, '\n'))
}

// logThrottle lets one line a second through, so that an outage or a broken hot link does not
// turn every request into a log line; shortlink_redirect_requests_total{result="error"} counts
// every one.
type logThrottle struct{ next atomic.Int64 }

func (l *logThrottle) allow(now time.Time) bool {
	next := l.next.Load()
	return now.UnixNano() >= next && l.next.CompareAndSwap(next, now.Add(time.Second).UnixNano())
}

// notFoundOr answers 404, or redirects to location when one is configured.
func (s *server) notFoundOr(w http.ResponseWriter, location string) {
	if location == "" || writeRedirect(w, http.StatusFound, location, s.noStoreCC) != nil {
		writeStatus(w, http.StatusNotFound)
	}
}

// unavailable reports errors that retrying later may cure: a deadline, or PostgreSQL or Redis
// out of reach.
func unavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || store.IsUnavailable(err) || cache.IsUnavailable(err)
}
