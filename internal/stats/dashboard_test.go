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

package stats_test

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// visitsDashboard is the Grafana dashboard on PostgreSQL that the chart ships.
const visitsDashboard = "../../config/prometheus/dashboards/shortlink-visits.json"

// dashboard is the part of a Grafana dashboard this test reads.
type dashboard struct {
	Templating struct {
		List []struct {
			Name, Type string
			Query      any
			Datasource *datasourceRef
		}
	}
	Panels []struct {
		Title      string
		Datasource *datasourceRef
		Targets    []struct {
			RawSQL     string `json:"rawSql"`
			Datasource *datasourceRef
		}
	}
}

type datasourceRef struct{ Type, UID string }

// Grafana's macros as its PostgreSQL data source expands them, the only ones the dashboard may
// use: anything else left with a "$" fails the test.
var (
	timeFilterMacro = regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
	timeGroupMacro  = regexp.MustCompile(`\$__timeGroupAlias\((\w+),\s*'1h'\)`)
	linkVariable    = regexp.MustCompile(`\$\{link\}|\$link\b`)
)

// expand does what Grafana does to a panel's SQL before sending it, for the time range [from,
// to] and the link variable's value.
func expand(t *testing.T, sql string, from, to time.Time, link string) string {
	t.Helper()
	sql = timeFilterMacro.ReplaceAllString(sql, fmt.Sprintf("$1 BETWEEN '%s' AND '%s'", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	sql = timeGroupMacro.ReplaceAllString(sql, `floor(extract(epoch from $1)/3600)*3600 AS "time"`)
	sql = linkVariable.ReplaceAllLiteralString(sql, link)
	if i := strings.IndexByte(sql, '$'); i >= 0 {
		t.Fatalf("the dashboard uses %q, which this test does not expand (Grafana would, the test cannot check it):\n%s", sql[i:min(i+20, len(sql))], sql)
	}
	return sql
}

// Every query of the visits dashboard, its link selector's and each panel's, runs on real
// PostgreSQL against visits a flush wrote, and returns what they were: the series, people and
// programs, the device, the country, the referrer and the top link.
func TestVisitsDashboardQueries(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(visitsDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", visitsDashboard, err)
	}
	db := newDB(t)
	st := openStore(t, testEnv(t).PgBouncer.URL(db), true)
	a, _ := newAggregator(t, st, stats.Options{})
	hour := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, v := range []stats.Visit{
		{Code: "dash", At: hour.Add(time.Minute), Referer: "https://news.example/a", UserAgent: safariIPhone, Country: "NZ"},
		{Code: "dash", At: hour.Add(2 * time.Minute), Referer: "https://news.example/b", UserAgent: safariIPhone, Country: "NZ"},
		{Code: "dash", At: hour.Add(3 * time.Minute), UserAgent: "Slackbot-LinkExpanding 1.0", Bot: true},
		{Code: "quiet", At: hour.Add(time.Hour), UserAgent: chromeDesktop},
	} {
		a.Record(v)
	}
	mustFlush(t, a)
	from, to := hour.Add(-24*time.Hour), hour.Add(24*time.Hour)

	queries := map[string]string{} // title → expanded SQL
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			checkDatasource(t, "variable "+v.Name, v.Datasource)
			q, _ := v.Query.(string)
			queries["variable "+v.Name] = expand(t, q, from, to, "/dash")
		}
	}
	for _, p := range d.Panels {
		checkDatasource(t, p.Title, p.Datasource)
		if len(p.Targets) != 1 || p.Targets[0].RawSQL == "" {
			t.Fatalf("panel %q has %d targets; want one with rawSql", p.Title, len(p.Targets))
		}
		checkDatasource(t, p.Title, p.Targets[0].Datasource)
		queries[p.Title] = expand(t, p.Targets[0].RawSQL, from, to, "/dash")
	}
	want := map[string]string{
		"variable link":       "dash /dash | quiet /quiet",
		"Visits per hour":     fmt.Sprintf("%d 2 1", hour.Unix()),
		"People and programs": "2 1",
		"Devices":             "mobile 2 | bot 1",
		"Countries":           "NZ 2",
		"Referrers":           "news.example 2 | (direct) 1",
		"Top links":           "dash 2 1 | quiet 1 0",
	}
	if len(queries) != len(want) {
		t.Errorf("the dashboard has queries %v; this test checks %d", keys(queries), len(want))
	}
	// As the read-only role docs/breakdowns.md grants, in a read-only transaction.
	direct := openStore(t, testEnv(t).Postgres.URL(db), false).Pool()
	role := grafanaRole(t, direct, db)
	for title, sql := range queries {
		err := pgx.BeginTxFunc(context.Background(), direct, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), "SET LOCAL ROLE "+role); err != nil {
				return err
			}
			if got := queryRows(t, tx, sql); got != want[title] {
				t.Errorf("%s returned %q, want %q\n%s", title, got, want[title], sql)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// grafanaRole creates the dashboard's read-only role of docs/breakdowns.md, with its grants
// on database db, and returns its name.
func grafanaRole(t *testing.T, pool *pgxpool.Pool, db string) string {
	t.Helper()
	role := "grafana_" + db // roles are the server's: one per test database
	for _, stmt := range []string{
		"CREATE ROLE " + role,
		"GRANT CONNECT ON DATABASE " + db + " TO " + role,
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON url_stats, visit_hours, visit_breakdowns TO " + role,
	} {
		if _, err := pool.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return role
}

// checkDatasource requires the dashboard's PostgreSQL data source variable.
func checkDatasource(t *testing.T, what string, ds *datasourceRef) {
	t.Helper()
	if ds == nil || ds.Type != "grafana-postgresql-datasource" || ds.UID != "${datasource}" {
		t.Errorf("%s: data source %+v, want grafana-postgresql-datasource ${datasource}", what, ds)
	}
}

// queryRows runs sql and returns its rows as text: values joined by spaces, rows by " | ".
func queryRows(t *testing.T, pool interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fields := make([]string, len(vals))
		for i, v := range vals {
			if n, ok := v.(driver.Valuer); ok { // sums are numeric: pgtype.Numeric gives its digits
				v, _ = n.Value()
			}
			fields[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(fields, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return strings.Join(out, " | ")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
