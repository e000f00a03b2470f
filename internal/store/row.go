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

// scanRow reads rowColumns, then any extra columns selected after them into extra.
func scanRow(r pgx.Row, extra ...any) (Row, error) {
	var row Row
	dest := make([]any, 0, 7+len(linkColumns)+len(extra))
	dest = append(dest, &row.Domain, &row.Code)
	dest = linkDests(dest, &row.Link)
	dest = append(dest, &row.Version, &row.Deleted, &row.InstallID, &row.CreatedAt, &row.UpdatedAt)
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return Row{}, err
	}
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
