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
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// Text fields are stored cleaned and bounded, client addresses anonymised.
func TestVisitLogsCleaned(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{})
	longReferer := "https://example.com/" + strings.Repeat("x", 2000)
	cases := []struct {
		visit               stats.Visit
		wantUA, wantReferer string
		wantIP              *string
	}{
		{
			visit:  stats.Visit{Code: "v4", UserAgent: "Mozilla/5.0\x00 (X11; \xff\xfe Linux)", ClientIP: netip.MustParseAddr("203.0.113.77")},
			wantUA: "Mozilla/5.0\uFFFD (X11; \uFFFD\uFFFD Linux)", wantIP: ptr("203.0.113.0"),
		},
		{
			visit: stats.Visit{Code: "v6", UserAgent: strings.Repeat("é", 400), Referer: longReferer,
				ClientIP: netip.MustParseAddr("2001:db8:1234:5678:9abc:def0:1:2")},
			wantUA: strings.Repeat("é", 256), wantReferer: longReferer[:1024], wantIP: ptr("2001:db8:1234::"),
		},
		{
			visit:  stats.Visit{Code: "mapped", ClientIP: netip.MustParseAddr("::ffff:198.51.100.200")},
			wantIP: ptr("198.51.100.0"),
		},
		{visit: stats.Visit{Code: "no-ip", UserAgent: "curl/8"}, wantUA: "curl/8"},
	}
	for _, tc := range cases {
		a.Record(tc.visit)
	}
	mustFlush(t, a)
	for _, tc := range cases {
		var ua, referer string
		var ip *string
		err := pool.QueryRow(context.Background(),
			"SELECT user_agent, referer, host(client_ip) FROM visit_logs WHERE code = $1", tc.visit.Code).Scan(&ua, &referer, &ip)
		if err != nil {
			t.Fatalf("read %s: %v", tc.visit.Code, err)
		}
		if ua != tc.wantUA || referer != tc.wantReferer || deref(ip) != deref(tc.wantIP) {
			t.Errorf("%s stored as (%q, %q, %s); want (%q, %q, %s)",
				tc.visit.Code, ua, referer, deref(ip), tc.wantUA, tc.wantReferer, deref(tc.wantIP))
		}
	}
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// A visit is stored with its time to the microsecond, its key and a host address; its counts go
// to url_stats per link and to visit_hours per link and UTC hour, adding up across batches.
func TestVisitRowsAndHourlyCounts(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{})
	ctx := context.Background()
	hour := time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC) // before PostgreSQL's epoch, too
	at := []time.Time{
		hour.Add(59*time.Minute + 59*time.Second + 999_999*time.Microsecond + 999*time.Nanosecond),
		hour.Add(time.Hour + 123*time.Microsecond), hour.Add(time.Hour + time.Minute),
	}
	for _, tm := range at {
		a.Record(stats.Visit{Domain: "go.example.com", Code: "h", At: tm, ClientIP: netip.MustParseAddr("192.0.2.9")})
	}
	mustFlush(t, a)
	a.Record(stats.Visit{Domain: "go.example.com", Code: "h", At: at[2], ClientIP: netip.MustParseAddr("2001:db8::1")})
	mustFlush(t, a)

	rows, err := pool.Query(ctx, `SELECT visited_at, client_ip::text FROM visit_logs
		WHERE domain = 'go.example.com' AND code = 'h' ORDER BY visited_at, client_ip`)
	if err != nil {
		t.Fatal(err)
	}
	type logRow struct {
		At time.Time
		IP string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[logRow])
	if err != nil {
		t.Fatal(err)
	}
	want := []logRow{{at[0], "192.0.2.0/32"}, {at[1], "192.0.2.0/32"}, {at[2], "192.0.2.0/32"}, {at[2], "2001:db8::/128"}} // host addresses
	if len(got) != len(want) {
		t.Fatalf("visit_logs = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At.Truncate(time.Microsecond)) || got[i].IP != want[i].IP {
			t.Fatalf("visit_logs = %v, want %v (times to the microsecond)", got, want)
		}
	}

	var total, first, second int64
	err = pool.QueryRow(ctx, `SELECT
		(SELECT visits FROM url_stats WHERE domain = 'go.example.com' AND code = 'h'),
		(SELECT visits FROM visit_hours WHERE domain = 'go.example.com' AND code = 'h' AND hour = $1),
		(SELECT visits FROM visit_hours WHERE domain = 'go.example.com' AND code = 'h' AND hour = $2)`,
		hour, hour.Add(time.Hour)).Scan(&total, &first, &second)
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || first != 1 || second != 3 {
		t.Fatalf("url_stats %d, visit_hours %d then %d; want 4, 1 then 3", total, first, second)
	}
}

// A flush counts programs' visits apart from people's: every visit in visits, the bots' part
// in bot_visits too, per link in url_stats and per hour in visit_hours; each visit_logs row
// keeps its class.
func TestBotVisitsCountedApart(t *testing.T) {
	t.Parallel()
	st := openStore(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	pool := st.Pool()
	a, _ := newAggregator(t, st, stats.Options{})
	ctx := context.Background()
	hour := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, v := range []stats.Visit{
		{Code: "b", At: hour.Add(time.Minute), UserAgent: "Chrome", Bot: false},
		{Code: "b", At: hour.Add(2 * time.Minute), UserAgent: "Slackbot", Bot: true},
		{Code: "b", At: hour.Add(time.Hour), UserAgent: "Twitterbot", Bot: true},
	} {
		a.Record(v)
	}
	mustFlush(t, a)
	a.Record(stats.Visit{Code: "b", At: hour.Add(time.Hour + time.Minute), UserAgent: "Discordbot", Bot: true})
	mustFlush(t, a)

	var visits, bots, firstVisits, firstBots, secondVisits, secondBots, loggedBots int64
	err := pool.QueryRow(ctx, `SELECT
		(SELECT visits FROM url_stats WHERE domain = '' AND code = 'b'),
		(SELECT bot_visits FROM url_stats WHERE domain = '' AND code = 'b'),
		(SELECT visits FROM visit_hours WHERE domain = '' AND code = 'b' AND hour = $1),
		(SELECT bot_visits FROM visit_hours WHERE domain = '' AND code = 'b' AND hour = $1),
		(SELECT visits FROM visit_hours WHERE domain = '' AND code = 'b' AND hour = $2),
		(SELECT bot_visits FROM visit_hours WHERE domain = '' AND code = 'b' AND hour = $2),
		(SELECT count(*) FROM visit_logs WHERE code = 'b' AND bot)`,
		hour, hour.Add(time.Hour)).Scan(&visits, &bots, &firstVisits, &firstBots, &secondVisits, &secondBots, &loggedBots)
	if err != nil {
		t.Fatal(err)
	}
	if visits != 4 || bots != 3 || firstVisits != 2 || firstBots != 1 || secondVisits != 2 || secondBots != 2 || loggedBots != 3 {
		t.Fatalf("url_stats %d visits, %d bots; visit_hours %d/%d then %d/%d; visit_logs %d bots; want 4, 3; 2/1 then 2/2; 3",
			visits, bots, firstVisits, firstBots, secondVisits, secondBots, loggedBots)
	}
}
