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
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// linkColumn is one urls column that holds a links.Link field other than the key (domain, code)
// and Version. Everything the store does with a link's fields — the columns it writes and reads,
// what it binds, how it scans and decodes them, when a declared value counts as unchanged — is
// derived from linkColumns, so a new field is one entry here (and a migration), not an edit of
// every statement. TestEveryLinkFieldIsStoredAndReadBack fails when a field is left out.
type linkColumn struct {
	name string
	// batchType is the column's type in api_batch, the API batch's temporary table.
	batchType string
	// value is what a write binds for l's field: zero times as NULL, tags never NULL.
	value func(l *links.Link) any
	// dest is where pgx scans the column into l (text or binary results alike).
	dest func(l *links.Link) any
	// decode reads the column into l from Lookup's binary row.
	decode func(d *binaryRow, l *links.Link)
	// same reports whether the stored field already holds the declared one, as SQL's IS
	// DISTINCT FROM compares them (see declaredColumns).
	same func(stored, declared *links.Link) bool
}

// linkColumns are the link's own columns, in the order every statement lists them.
var linkColumns = []linkColumn{
	scalarColumn("target", "text NOT NULL", func(l *links.Link) *string { return &l.Target }, (*binaryRow).text),
	scalarColumn("redirect_type", "smallint NOT NULL", func(l *links.Link) *int { return &l.RedirectType }, smallint),
	scalarColumn("forward_query", "boolean NOT NULL", func(l *links.Link) *bool { return &l.ForwardQuery }, (*binaryRow).bool),
	timeColumn("valid_since", func(l *links.Link) *time.Time { return &l.ValidSince }),
	timeColumn("valid_until", func(l *links.Link) *time.Time { return &l.ValidUntil }),
	scalarColumn("expired_target", "text NOT NULL", func(l *links.Link) *string { return &l.ExpiredTarget }, (*binaryRow).text),
	scalarColumn("suspended", "boolean NOT NULL", func(l *links.Link) *bool { return &l.Suspended }, (*binaryRow).bool),
	tagsColumn("tags", func(l *links.Link) *[]string { return &l.Tags }),
	scalarColumn("source", "text NOT NULL", func(l *links.Link) *string { return &l.Source }, (*binaryRow).text),
	scalarColumn("owner", "text NOT NULL", func(l *links.Link) *string { return &l.Owner }, (*binaryRow).text),
	scalarColumn("owner_uid", "text NOT NULL", func(l *links.Link) *string { return &l.OwnerUID }, (*binaryRow).text),
	scalarColumn("forward_path", "boolean NOT NULL", func(l *links.Link) *bool { return &l.ForwardPath }, (*binaryRow).bool),
	scalarColumn("max_visits", "bigint NOT NULL", func(l *links.Link) *int64 { return &l.MaxVisits }, bigint),
}

// scalarColumn is a NOT NULL column of a type pgx scans and binds as it is, compared with ==;
// decode reads it from Lookup's binary row.
func scalarColumn[T comparable](name, batchType string, field func(*links.Link) *T, decode func(*binaryRow) T) linkColumn {
	return linkColumn{
		name: name, batchType: batchType,
		value:  func(l *links.Link) any { return *field(l) },
		dest:   func(l *links.Link) any { return field(l) },
		decode: func(d *binaryRow, l *links.Link) { *field(l) = decode(d) },
		same:   func(a, b *links.Link) bool { return *field(a) == *field(b) },
	}
}

// bigint reads a visit limit.
func bigint(d *binaryRow) int64 { return d.int(8) }

// smallint reads a redirect type.
func smallint(d *binaryRow) int { return int(d.int(2)) }

// timeColumn is a nullable timestamptz: NULL is the zero time both ways.
func timeColumn(name string, field func(*links.Link) *time.Time) linkColumn {
	return linkColumn{
		name: name, batchType: "timestamptz",
		value:  func(l *links.Link) any { return nullIfZero(*field(l)) },
		dest:   func(l *links.Link) any { return zeroTimeScanner{field(l)} },
		decode: func(d *binaryRow, l *links.Link) { *field(l) = d.time() },
		same:   func(a, b *links.Link) bool { return sameInstant(*field(a), *field(b)) },
	}
}

// tagsColumn is a text[], NOT NULL. Order matters in an array: tags are stored as declared.
func tagsColumn(name string, field func(*links.Link) *[]string) linkColumn {
	return linkColumn{
		name: name, batchType: "text[] NOT NULL",
		value:  func(l *links.Link) any { return nonNil(*field(l)) },
		dest:   func(l *links.Link) any { return field(l) },
		decode: func(d *binaryRow, l *links.Link) { *field(l) = d.textArray() },
		same:   func(a, b *links.Link) bool { return slices.Equal(*field(a), *field(b)) },
	}
}

// zeroTimeScanner scans a nullable timestamptz into a time.Time, NULL as the zero time.
type zeroTimeScanner struct{ t *time.Time }

func (z zeroTimeScanner) ScanTimestamptz(v pgtype.Timestamptz) error {
	*z.t = time.Time{}
	if v.Valid {
		*z.t = v.Time
	}
	return nil
}

// linkColumnList joins the link columns' names: "target, redirect_type, …".
func linkColumnList() string { return strings.Join(linkColumnNames(), ", ") }

func linkColumnNames() []string {
	names := make([]string, len(linkColumns))
	for i, c := range linkColumns {
		names[i] = c.name
	}
	return names
}

// batchColumnTypes declares the link columns in api_batch.
func batchColumnTypes() string {
	defs := make([]string, len(linkColumns))
	for i, c := range linkColumns {
		defs[i] = c.name + " " + c.batchType
	}
	return strings.Join(defs, ", ")
}

// linkValues appends what a write binds for l's link columns to args.
func linkValues(args []any, l *links.Link) []any {
	for _, c := range linkColumns {
		args = append(args, c.value(l))
	}
	return args
}

// linkDests appends where pgx scans l's link columns to dest.
func linkDests(dest []any, l *links.Link) []any {
	for _, c := range linkColumns {
		dest = append(dest, c.dest(l))
	}
	return dest
}

// placeholders are $first… for n parameters.
func placeholders(first, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(ps, ", ")
}

// linkAssignments is an UPDATE's SET list for the link columns: each from source, a function of
// the column's name ("EXCLUDED.target", "$3").
func linkAssignments(source func(i int, name string) string) string {
	sets := make([]string, len(linkColumns))
	for i, c := range linkColumns {
		sets[i] = c.name + " = " + source(i, c.name)
	}
	return strings.Join(sets, ", ")
}

// fromExcluded takes each column from the row proposed to INSERT … ON CONFLICT.
func fromExcluded(_ int, name string) string { return "EXCLUDED." + name }

// nullIfZero maps the zero time to SQL NULL.
func nullIfZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nonNil returns tags, or an empty slice for nil: the column is NOT NULL, and pgx sends a nil
// slice as NULL.
func nonNil(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// sameInstant compares times as timestamptz stores them: to the microsecond, zero as NULL.
func sameInstant(stored, declared time.Time) bool {
	return stored.Equal(declared.Truncate(time.Microsecond))
}
