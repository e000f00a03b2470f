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
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// The redirector reads through PgBouncer: everything here is a single statement, so it works in
// transaction pooling mode with QueryExecModeExec.

// Changes returns up to limit rows written after afterVersion, tombstones included, in version
// order. Redirectors poll it with the highest version they have seen, to drop stale cache
// entries that a lost pub/sub message did not.
//
// A version is drawn from the sequence before its transaction commits, so a write can become
// visible after one with a higher version. Writers commit within milliseconds of drawing, and
// every cache entry has a hard TTL; a poller that must not miss such a write can re-read from a
// little behind its last seen version.
func (s *Store) Changes(ctx context.Context, afterVersion int64, limit int) ([]Row, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+rowColumns+` FROM urls
		WHERE version > $1::bigint ORDER BY version LIMIT $2`, afterVersion, limit)
	if err != nil {
		return nil, wrap("read changes", err)
	}
	changes, err := collectRows(rows)
	if err != nil {
		return nil, wrap("read changes", err)
	}
	return changes, nil
}

// Lookup returns the live link for (domain, code), or links.ErrNotFound when there is none or
// only a tombstone. Validity windows and suspension are the caller's to apply (links.Resolve).
//
// It is the redirector's PostgreSQL tier, run on every miss of its caches, so it reads only the
// link's own columns (the key is the caller's; tombstone, installation and timestamps are not
// part of a link) into the link directly.
func (s *Store) Lookup(ctx context.Context, domain, code string) (links.Link, error) {
	l := links.Link{Domain: domain, Code: code}
	var since, until *time.Time
	err := s.pool.QueryRow(ctx, `SELECT target, redirect_type, forward_query, valid_since, valid_until,
		expired_target, suspended, tags, source, owner, owner_uid, version
		FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted`, domain, code).Scan(
		&l.Target, &l.RedirectType, &l.ForwardQuery, &since, &until,
		&l.ExpiredTarget, &l.Suspended, &l.Tags, &l.Source, &l.Owner, &l.OwnerUID, &l.Version)
	if err != nil {
		return links.Link{}, lookupFailure(err)
	}
	l.ValidSince, l.ValidUntil = zeroIfNil(since), zeroIfNil(until)
	return l, nil
}

// errLookupMiss is Lookup's miss, built once: a flood of unknown codes comes here (once per code
// per negative-cache TTL).
var errLookupMiss = fmt.Errorf("look up link: %w", links.ErrNotFound)

func lookupFailure(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errLookupMiss
	}
	return wrap("look up link", err)
}

// MaxVersion returns the highest version in urls, or 0 when it is empty: where a redirector
// starts polling Changes.
func (s *Store) MaxVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM urls").Scan(&v); err != nil {
		return 0, wrap("read max version", err)
	}
	return v, nil
}
