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

// Declared is a link declared by a ShortLink, with what the holder rule needs.
type Declared struct {
	// Link is the normalized link. Source is links.SourceK8s (or empty, meaning it); Owner
	// ("namespace/name") and OwnerUID are required.
	Link links.Link
	// CreatedAt is the ShortLink's creationTimestamp: its claim time.
	CreatedAt time.Time
	// InstallID stamps the row as this installation's, for garbage collection.
	InstallID string
	// EligibleSinceCreation is true when the ShortLink has claimed this code with a servable
	// spec ever since it was created. Only such a claim may displace a live holder younger
	// than it: that holder took the code while this older claim already stood, so the oldest
	// claim wins whatever the reconcile order. A claim that became eligible later (a refused
	// target fixed, a domain newly served, a spec.domain moved onto the code) never displaces a
	// live holder (DESIGN.md §3).
	EligibleSinceCreation bool
}

// Result says what UpsertDeclared did.
type Result struct {
	// Changed is true when the row was written: created, updated or taken over.
	Changed bool
	// Version is the row's version after the call, changed or not.
	Version int64
	// Created is true when no row existed for the code, not even a tombstone.
	Created bool
}

// UpsertDeclared makes the urls row for a declared link match it, when the caller holds the
// code or may take it. It is idempotent: an unchanged link writes nothing and returns
// Changed=false with the current version. When another claimant holds the code it returns a
// *ConflictError (errors.Is(err, ErrConflict)) naming the holder.
//
// A write that changes the holder (another UID, a takeover of someone else's tombstone, or a new
// code) also deletes the code's url_stats row in the same transaction: visit counts belong to
// the holder, so a takeover starts from zero.
func (s *Store) UpsertDeclared(ctx context.Context, d Declared) (Result, error) {
	if err := d.check(); err != nil {
		return Result{}, fmt.Errorf("upsert declared link: %w", err)
	}
	var res Result
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		res, err = upsertDeclared(ctx, tx, d)
		return err
	})
	if err != nil {
		return Result{}, wrap("upsert declared link", err)
	}
	return res, nil
}

func (d Declared) check() error {
	switch {
	case d.Link.Source != "" && d.Link.Source != links.SourceK8s:
		return fmt.Errorf("%w: source %q, want %q", links.ErrInvalidLink, d.Link.Source, links.SourceK8s)
	case d.Link.Code == "" || d.Link.Owner == "" || d.Link.OwnerUID == "":
		return fmt.Errorf("%w: code, owner and owner UID are required", links.ErrInvalidLink)
	case d.CreatedAt.IsZero():
		return fmt.Errorf("%w: creation time is required", links.ErrInvalidLink)
	}
	return nil
}

func upsertDeclared(ctx context.Context, tx pgx.Tx, d Declared) (Result, error) {
	l := d.Link
	prevUID, found, err := lockHolder(ctx, tx, l.Domain, l.Code)
	if err != nil {
		return Result{}, err
	}
	var res Result
	args := append(declaredArgs(d.withDefaults()), d.EligibleSinceCreation) // see eligibleSinceCreationParam
	err = tx.QueryRow(ctx, upsertDeclaredSQL, args...).Scan(&res.Version, &res.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return unchangedOrConflict(ctx, tx, d)
	}
	if err != nil {
		return Result{}, err
	}
	res.Changed = true
	// The holder changed unless the row we locked was already ours. A new code counts too: any
	// url_stats row left for it is stale. (Not found yet not created means another claimant
	// inserted the row after our read, and we just took it over.)
	if !found || prevUID != l.OwnerUID {
		if err := resetVisitCounts(ctx, tx, Key{Domain: l.Domain, Code: l.Code}); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

func lockHolder(ctx context.Context, tx pgx.Tx, domain, code string) (ownerUID string, found bool, err error) {
	err = tx.QueryRow(ctx, lockHolderSQL, domain, code).Scan(&ownerUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("lock current row: %w", err)
	}
	return ownerUID, true, nil
}

// unchangedOrConflict tells apart the two reasons the upsert wrote nothing.
func unchangedOrConflict(ctx context.Context, tx pgx.Tx, d Declared) (Result, error) {
	row, err := scanRow(tx.QueryRow(ctx, getRowSQL, d.Link.Domain, d.Link.Code))
	if err != nil {
		return Result{}, fmt.Errorf("read current row: %w", err)
	}
	if !row.Deleted && row.OwnerUID == d.Link.OwnerUID {
		return Result{Version: row.Version}, nil
	}
	return Result{}, &ConflictError{Holder: holderName(row)}
}

func holderName(row Row) string {
	if row.Source == links.SourceAPI {
		return links.SourceAPI
	}
	return row.Owner
}

// Get returns the row for (domain, code), tombstone or not, or links.ErrNotFound.
func (s *Store) Get(ctx context.Context, domain, code string) (Row, error) {
	row, err := scanRow(s.pool.QueryRow(ctx, getRowSQL, domain, code))
	if err != nil {
		return Row{}, wrap("get link", err)
	}
	return row, nil
}

// ListDeclared returns up to limit live k8s rows stamped with installID, in (domain, code)
// order after the key after; pass the last row's key to get the next page. Garbage collection
// walks it to find rows whose ShortLink is gone.
func (s *Store) ListDeclared(ctx context.Context, installID string, after Key, limit int) ([]Row, error) {
	rows, err := s.pool.Query(ctx, listDeclaredSQL, installID, after.Domain, after.Code, limit)
	if err != nil {
		return nil, wrap("list declared links", err)
	}
	list, err := collectRows(rows)
	if err != nil {
		return nil, wrap("list declared links", err)
	}
	return list, nil
}
