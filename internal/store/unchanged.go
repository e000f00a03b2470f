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
	"strings"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// declaredColumn is one urls column a declared link sets: its name, the value UpsertDeclared
// binds for it, and the Go comparison that must agree with SQL's IS DISTINCT FROM on it.
type declaredColumn struct {
	name string
	// value is what the upsert writes, from a Declared already passed through withDefaults.
	value func(d Declared) any
	// same reports whether the stored row already holds d's value.
	same func(r Row, d Declared) bool
}

// declaredColumns is the one definition of "unchanged" for a declared link. UpsertDeclared
// writes exactly these columns and skips the write when none of them IS DISTINCT FROM the
// stored row; Declared.Unchanged, the reconciler's read-first fast path, compares exactly these
// in Go. Before this list the two disagreed (the Go side ignored install_id and created_at), so
// a changed --install-id never re-stamped a row.
//
// They are the link's columns (linkColumns), then the row's installation and claim time. Every
// other urls column is in notDeclaredColumns, with the reason.
var declaredColumns = append(declaredLinkColumns(),
	declaredColumn{"install_id", func(d Declared) any { return d.InstallID },
		func(r Row, d Declared) bool { return r.InstallID == d.InstallID }},
	declaredColumn{"created_at", func(d Declared) any { return d.CreatedAt },
		func(r Row, d Declared) bool { return sameInstant(r.CreatedAt, d.CreatedAt) }},
)

// declaredLinkColumns are linkColumns as declared columns.
func declaredLinkColumns() []declaredColumn {
	cols := make([]declaredColumn, len(linkColumns))
	for i, c := range linkColumns {
		cols[i] = declaredColumn{
			name:  c.name,
			value: func(d Declared) any { return c.value(&d.Link) },
			same:  func(r Row, d Declared) bool { return c.same(&r.Link, &d.Link) },
		}
	}
	return cols
}

// notDeclaredColumns are the urls columns a declaration does not set, and why.
var notDeclaredColumns = map[string]string{
	"domain":     "the key, with code: the row looked up, never compared",
	"code":       "the key, with domain",
	"version":    "bookkeeping: a new value on every write",
	"deleted":    "bookkeeping: a declared write always makes the row live, so a tombstone is never unchanged",
	"updated_at": "bookkeeping: the time of the last write",
}

// Unchanged reports whether row already is what d declares, live: then UpsertDeclared would
// write nothing, and the caller may skip it. It compares exactly the columns the upsert's SQL
// compares (declaredColumns).
func (d Declared) Unchanged(row Row) bool {
	if row.Deleted || row.Domain != d.Link.Domain || row.Code != d.Link.Code {
		return false
	}
	d = d.withDefaults()
	for _, c := range declaredColumns {
		if !c.same(row, d) {
			return false
		}
	}
	return true
}

// withDefaults fills what the columns store in a canonical form: the k8s source, the default
// redirect type and empty rather than nil tags (the column is NOT NULL, and pgx sends a nil
// slice as NULL).
func (d Declared) withDefaults() Declared {
	if d.Link.Source == "" {
		d.Link.Source = links.SourceK8s
	}
	if d.Link.RedirectType == 0 {
		d.Link.RedirectType = links.DefaultRedirectType
	}
	if d.Link.Tags == nil {
		d.Link.Tags = []string{}
	}
	return d
}

// declaredArgs are the upsert's arguments: domain and code, then declaredColumns in order.
func declaredArgs(d Declared) []any {
	args := make([]any, 0, 2+len(declaredColumns))
	args = append(args, d.Link.Domain, d.Link.Code)
	for _, c := range declaredColumns {
		args = append(args, c.value(d))
	}
	return args
}

// declaredColumnList joins the declared columns' names, each with prefix: "u.target, …".
func declaredColumnList(prefix string) string {
	names := make([]string, len(declaredColumns))
	for i, c := range declaredColumns {
		names[i] = prefix + c.name
	}
	return strings.Join(names, ", ")
}

// eligibleSinceCreationParam is the placeholder of Declared.EligibleSinceCreation, bound after
// the declared columns.
func eligibleSinceCreationParam() string { return fmt.Sprintf("$%d", len(declaredColumns)+3) }

// declaredUpdates is the DO UPDATE SET list: every declared column from the proposed row.
func declaredUpdates() string {
	sets := make([]string, len(declaredColumns))
	for i, c := range declaredColumns {
		sets[i] = c.name + " = EXCLUDED." + c.name
	}
	return strings.Join(sets, ", ")
}
