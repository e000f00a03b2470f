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

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// ErrConflict is the class of *ConflictError, for errors.Is.
var ErrConflict = errors.New("code held by another claimant")

// ConflictError says that another claimant holds the (domain, code) a declared link asked for.
type ConflictError struct {
	// Holder is the holding ShortLink's "namespace/name", or "api" for a link made through the API.
	Holder string
}

// Error names the holder, fit for a condition message.
func (e *ConflictError) Error() string { return "code held by " + e.Holder }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// IsUnavailable reports whether err means PostgreSQL could not be reached or did not answer in
// time — it is down, restarting, overloaded or cut off — rather than that the request itself was
// wrong. Callers report such errors as "database unavailable" and retry on an interval. A
// cancelled context is the caller's own doing and is not unavailability.
func IsUnavailable(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	if errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// unavailableState reports whether a SQLSTATE says the server cannot serve right now: class 08
// (connection exception, also what PgBouncer reports when it cannot reach PostgreSQL), class 53
// (insufficient resources, such as too many connections), a shutdown or start-up in progress, or
// a statement cancelled by a server-side timeout.
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57014": // admin_shutdown, crash_shutdown, cannot_connect_now, query_canceled
		return true
	}
	return false
}

// wrap prefixes err with what was being done, translating pgx.ErrNoRows to links.ErrNotFound so
// that it never leaks to callers.
func wrap(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, links.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}
