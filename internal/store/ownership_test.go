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
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tableRef finds a table name in SQL text; a visit_logs partition counts as visit_logs.
var tableRef = regexp.MustCompile(`\b(urls|url_stats|visit_hours|visit_breakdowns|stats_batches|api_batch|schema_migrations|visit_logs|domains)(_\w+)?\b`)

// tableOwners reads the table list of the package documentation: "  - table: file.go …".
func tableOwners(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	owners := make(map[string]string)
	for _, m := range regexp.MustCompile(`(?m)^//\s+- (\w+): (\w+\.go)\b`).FindAllStringSubmatch(string(doc), -1) {
		owners[m[1]] = m[2]
	}
	return owners
}

// Every table has one file holding all SQL that touches it (DESIGN.md §4, issue 20): a string
// literal of this package that names a table stands in the file doc.go names for that table.
func TestEveryTableSQLIsInItsFile(t *testing.T) {
	owners := tableOwners(t)
	for _, table := range []string{"urls", "url_stats", "visit_hours", "visit_breakdowns", "visit_logs", "stats_batches", "domains"} {
		if _, err := os.Stat(owners[table]); owners[table] == "" || err != nil {
			t.Errorf("doc.go names no existing file for table %s (%q)", table, owners[table])
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			for _, m := range tableRef.FindAllStringSubmatch(lit.Value, -1) {
				table := m[1]
				if owner, ok := owners[table]; !ok || owner != name {
					t.Errorf("%s: SQL touching %s belongs in %s (doc.go)", fset.Position(lit.Pos()), table, owners[table])
				}
			}
			return true
		})
	}
}
