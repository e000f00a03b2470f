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

package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// fieldCode names the code field in errors: a code held, declared or unchangeable.
const fieldCode = "code"

// Why a request is refused, besides the store's and the link rules' errors.
var (
	errUnauthorized = errors.New("missing or unknown API key")
	errNoRoute      = errors.New("no such endpoint")
)

// forbiddenError refuses a known key an operation, or a domain (then Field is "domain").
type forbiddenError struct {
	Reason, Field string
}

func (e *forbiddenError) Error() string { return e.Reason }

// answer writes the error response for err and returns the `result` label. It is the one place
// that maps errors to statuses, and the one place that logs them: only failures on our side.
func (s *server) answer(w http.ResponseWriter, r *http.Request, err error) string {
	var limited *rateLimitedError
	switch {
	case errors.As(err, &limited):
		answerRateLimited(w, limited)
		return "rate_limited"
	case errors.Is(err, errUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="shortlink"`)
		writeError(w, http.StatusUnauthorized, ErrorResponse{Error: err.Error()})
		return "unauthorized"
	case isTooLarge(err):
		writeError(w, http.StatusRequestEntityTooLarge, ErrorResponse{Error: "request body too large", Field: "body"})
		return "too_large"
	case errors.Is(err, links.ErrNotFound), errors.Is(err, errNoRoute):
		writeError(w, http.StatusNotFound, ErrorResponse{Error: "not found"})
		return "not_found"
	}
	if status, body, result, ok := refusal(err); ok {
		writeError(w, status, body)
		return result
	}
	switch {
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, ErrorResponse{Error: "request cancelled"})
		return "error"
	case errors.Is(err, context.DeadlineExceeded), store.IsUnavailable(err):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, ErrorResponse{Error: "database unavailable; retry later"})
		s.log.Warn("API request failed: the database is unavailable", "path", r.URL.Path, "error", err)
		return "unavailable"
	}
	writeError(w, http.StatusInternalServerError, ErrorResponse{Error: "internal error"})
	s.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	return "error"
}

// refusal maps the errors that refuse one link (of a batch, too) to a status, a body and the
// `result` label; ok is false for any other error.
func refusal(err error) (status int, body ErrorResponse, result string, ok bool) {
	var fieldErr *links.FieldError
	var forbidden *forbiddenError
	switch {
	case errors.As(err, &fieldErr):
		return http.StatusBadRequest, ErrorResponse{Error: fieldErr.Error(), Field: fieldErr.Field}, "invalid", true
	case errors.As(err, &forbidden):
		return http.StatusForbidden, ErrorResponse{Error: forbidden.Reason, Field: forbidden.Field}, "forbidden", true
	case errors.Is(err, store.ErrDeclared):
		return http.StatusConflict, ErrorResponse{
			Error: "the link is declared by a ShortLink; change the ShortLink instead", Field: fieldCode}, "conflict", true
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, ErrorResponse{Error: "code already held", Field: fieldCode}, "conflict", true
	}
	return 0, ErrorResponse{}, "", false
}

func isTooLarge(err error) bool {
	var maxErr *http.MaxBytesError
	return errors.As(err, &maxErr)
}

func writeError(w http.ResponseWriter, status int, body ErrorResponse) {
	writeJSON(w, status, body)
}

// writeJSON writes v; a client that went away cannot be told anything else, so a failed write
// is dropped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
