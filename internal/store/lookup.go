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
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shortlink-dev/shortlink/internal/links"
)

var lookupParamOIDs = []uint32{pgtype.TextOID, pgtype.TextOID}

// Lookup returns the live link for (domain, code), or links.ErrNotFound when there is none or
// only a tombstone. Validity windows and suspension are the caller's to apply (links.Link.Decide).
//
// It is the redirector's PostgreSQL tier, run on every miss of its caches, so it skips pgx's
// row scanning: through PgBouncer every query runs in QueryExecModeExec, whose results come as
// text, and planning and parsing a dozen text columns (timestamps and an array among them) was
// a tenth of that tier's CPU. Lookup instead sends the same single unnamed statement through
// pgconn, asks for binary results and decodes the columns itself (decodeLookup).
func (s *Store) Lookup(ctx context.Context, domain, code string) (links.Link, error) {
	l, found := links.Link{Domain: domain, Code: code}, false
	err := s.queryBinary(ctx, lookupSQL, [][]byte{[]byte(domain), []byte(code)}, lookupParamOIDs, func(vals [][]byte) error {
		found = true
		return decodeLookup(vals, &l)
	})
	switch {
	case err != nil:
		return links.Link{}, wrap("look up link", err)
	case !found:
		return links.Link{}, errLookupMiss
	}
	return l, nil
}

// queryBinary runs one statement with text parameters of the given types and every result
// column in binary, and hands each row's values to row, which must not keep them. After row
// fails the rest are read and dropped, so the connection goes back clean; its error is
// returned. pgx's row scanning is skipped: Lookup and Feed decode with binaryRow instead.
func (s *Store) queryBinary(ctx context.Context, sql string, params [][]byte, oids []uint32, row func([][]byte) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return readRows(conn.Conn().PgConn().ExecParams(ctx, sql, params, oids, nil, binaryFormat), row)
}

// readRows hands each row of rr to row, which must not keep it, and closes rr. After row fails
// the rest are read and dropped, so the connection is left clean; its error is returned, unless
// the statement's own comes first.
func readRows(rr *pgconn.ResultReader, row func([][]byte) error) error {
	var rowErr error
	for rr.NextRow() {
		if rowErr == nil {
			rowErr = row(rr.Values())
		}
	}
	if _, err := rr.Close(); err != nil {
		return err
	}
	return rowErr
}

// errLookupMiss is Lookup's miss, built once: a flood of unknown codes comes here (once per code
// per negative-cache TTL).
var errLookupMiss = fmt.Errorf("look up link: %w", links.ErrNotFound)

// decodeLookup fills l from one lookupSQL row in PostgreSQL's binary format: the link columns,
// then the version.
func decodeLookup(vals [][]byte, l *links.Link) error {
	if want := len(linkColumns) + 1; len(vals) != want {
		return fmt.Errorf("lookup row has %d columns, want %d", len(vals), want)
	}
	d := binaryRow{vals: vals}
	for _, c := range linkColumns {
		c.decode(&d, l)
	}
	l.Version = d.int(8)
	return d.err
}
