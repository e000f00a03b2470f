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
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// Row is a urls row as stored, tombstones included.
type Row struct {
	links.Link
	// Deleted marks a tombstone: the link is gone, and the row stays so caches learn it.
	Deleted bool
	// InstallID is the installation that wrote a k8s row; garbage collection touches only its own.
	InstallID string
	// CreatedAt is the claim time of the holder (see UpsertDeclared).
	CreatedAt time.Time
	// UpdatedAt is the time of the row's last write.
	UpdatedAt time.Time
}

// Key identifies a link; the zero Key sorts before every stored one.
type Key struct {
	Domain string
	Code   string
}

// rowColumns are the urls columns scanRow reads, in its order.
const rowColumns = `domain, code, target, redirect_type, forward_query, valid_since, valid_until,
	expired_target, suspended, tags, source, owner, owner_uid, version,
	deleted, install_id, created_at, updated_at`

// scanRow reads rowColumns, mapping SQL NULL times to the zero time.
func scanRow(r pgx.Row) (Row, error) {
	var row Row
	var since, until *time.Time
	err := r.Scan(&row.Domain, &row.Code, &row.Target, &row.RedirectType, &row.ForwardQuery, &since, &until,
		&row.ExpiredTarget, &row.Suspended, &row.Tags, &row.Source, &row.Owner, &row.OwnerUID, &row.Version,
		&row.Deleted, &row.InstallID, &row.CreatedAt, &row.UpdatedAt)
	if err != nil {
		return Row{}, err
	}
	row.ValidSince, row.ValidUntil = zeroIfNil(since), zeroIfNil(until)
	return row, nil
}

// collectRows scans every row of a query that selected rowColumns.
func collectRows(rows pgx.Rows) ([]Row, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Row, error) { return scanRow(r) })
}

func zeroIfNil(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// nullIfZero maps the zero time to SQL NULL.
func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
