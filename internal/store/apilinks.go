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

// ErrDeclared says that a link is declared by a ShortLink: the create API may read it but must
// not change it, since the operator would converge it back.
var ErrDeclared = errors.New("link declared by a ShortLink")

// maxCodeAttempts bounds the sequence values one generated create takes. A value is skipped
// only when its code is held already (declared, or chosen as a custom code), which is rare.
const maxCodeAttempts = 32

// createdRow is the row an API create stored for l, given createdColumns: a new row, or a
// tombstone taken over, has l's values (its owner, the key's name, among them), no
// installation, and was last written when it was created. The validity times are read back because PostgreSQL keeps microseconds only.
func createdRow(l links.Link, version int64, since, until, createdAt time.Time) Row {
	l = asAPILink(l)
	l.Version = version
	l.Tags = nonNil(l.Tags)
	l.ValidSince, l.ValidUntil = since, until
	return Row{Link: l, CreatedAt: createdAt, UpdatedAt: createdAt}
}

// scanCreated reads createdColumns into the row stored for l.
func scanCreated(r pgx.Row, l links.Link) (Row, error) {
	var version int64
	var since, until *time.Time
	var createdAt time.Time
	if err := r.Scan(&version, &since, &until, &createdAt); err != nil {
		return Row{}, err
	}
	return createdRow(l, version, zeroIfNil(since), zeroIfNil(until), createdAt), nil
}

// CreateAPILink stores l, a normalized link with its code, as made through the API, owned by
// l.Owner (the name of the key that made it; "" for none, which only an admin key may see and
// change). When the code is held (a live row, declared or not) it returns an error wrapping ErrConflict and
// writes nothing.
func (s *Store) CreateAPILink(ctx context.Context, l links.Link) (Row, error) {
	row, err := s.insertAPI(ctx, l)
	if err != nil {
		return Row{}, wrapConflict("create link", err)
	}
	return row, nil
}

// CreateGeneratedAPILink stores l under a code made from a value of api_code_seq by encode (a
// links.Codec's Encode). A value whose code is already held is skipped for the next one, so a
// code someone declared is never taken; l.Code is ignored. Values are drawn in blocks
// (codeValues), so codes are unique but neither dense nor in creation order across Stores.
func (s *Store) CreateGeneratedAPILink(ctx context.Context, l links.Link, encode func(uint64) string) (Row, error) {
	for range maxCodeAttempts {
		n, err := s.codes.next(ctx, s.pool)
		if err != nil {
			return Row{}, wrap("create link: next code", err)
		}
		l.Code = encode(uint64(n)) //nolint:gosec // the sequence starts at 0 and only grows
		row, err := s.insertAPI(ctx, l)
		if !errors.Is(err, pgx.ErrNoRows) {
			return row, wrapConflict("create link", err)
		}
	}
	return Row{}, fmt.Errorf("create link: %d generated codes in a row were held: %w", maxCodeAttempts, ErrConflict)
}

func (s *Store) insertAPI(ctx context.Context, l links.Link) (Row, error) {
	stored := asAPILink(l)
	args := linkValues([]any{l.Domain, l.Code}, &stored)
	return scanCreated(s.pool.QueryRow(ctx, insertAPISQL, args...), l)
}

// asAPILink is l as an API create stores it: made through the API, held by no ShortLink.
func asAPILink(l links.Link) links.Link {
	l.Source, l.OwnerUID = links.SourceAPI, ""
	return l
}

// wrapConflict is wrap, except that no row from insertAPISQL means the code is held.
func wrapConflict(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrConflict)
	}
	return wrap(op, err)
}

// LinkVisits are a link's visit totals: people's, and programs' (internal/bots).
type LinkVisits struct {
	Visits, BotVisits int64
}

// GetWithVisits returns the live row for (domain, code), declared or not, with its visit
// totals, or links.ErrNotFound.
func (s *Store) GetWithVisits(ctx context.Context, domain, code string) (Row, LinkVisits, error) {
	var v LinkVisits
	row, err := scanRow(s.pool.QueryRow(ctx, getWithVisitsSQL, domain, code), &v.Visits, &v.BotVisits)
	if err != nil {
		return Row{}, LinkVisits{}, wrap("get link", err)
	}
	return row, v, nil
}

// PatchAPILink changes the live API link at (domain, code) to what apply makes of it, with a
// new version, and returns the new row. The row is locked meanwhile, so concurrent patches
// apply in turn. With ownedBy set, only a link of that owner is changed; another's is
// links.ErrNotFound, as if it did not exist ("" changes any). It returns links.ErrNotFound for
// no live row, ErrDeclared for a declared one, and apply's error as it is (wrapped), writing
// nothing in each case. apply must keep the key.
func (s *Store) PatchAPILink(ctx context.Context, domain, code, ownedBy string, apply func(links.Link) (links.Link, error)) (Row, error) {
	var out Row
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := scanRow(tx.QueryRow(ctx, lockLiveRowSQL, domain, code))
		if err != nil {
			return err
		}
		switch {
		case row.Source != links.SourceAPI:
			return ErrDeclared
		case ownedBy != "" && row.Owner != ownedBy:
			return links.ErrNotFound
		}
		l, err := apply(row.Link)
		if err != nil {
			return err
		}
		// A patch changes what the link does, never who holds it.
		l.Source, l.Owner, l.OwnerUID = row.Source, row.Owner, row.OwnerUID
		out, err = scanRow(tx.QueryRow(ctx, patchAPISQL, linkValues([]any{domain, code}, &l)...))
		return err
	})
	if err != nil {
		return Row{}, wrap("update link", err)
	}
	return out, nil
}

// DeleteAPILink turns the live API link at (domain, code) into a tombstone with a new version,
// as DeleteDeclared does for declared links, and returns that version. With ownedBy set, only a
// link of that owner is deleted ("" deletes any). It returns links.ErrNotFound for no live row
// or another owner's, and ErrDeclared for a declared one.
func (s *Store) DeleteAPILink(ctx context.Context, domain, code, ownedBy string) (int64, error) {
	var version int64
	var source string
	err := s.pool.QueryRow(ctx, deleteAPISQL, domain, code, ownedBy).Scan(&version, &source)
	switch {
	case err != nil:
		return 0, wrap("delete link", err)
	case source != links.SourceAPI:
		return 0, fmt.Errorf("delete link: %w", ErrDeclared)
	case version == 0:
		return 0, fmt.Errorf("delete link: another key's: %w", links.ErrNotFound)
	}
	return version, nil
}
