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

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// Text fields are stored cleaned and bounded, client addresses anonymised.
func TestVisitLogsCleaned(t *testing.T) {
	t.Parallel()
	pool := openPool(t, testEnv(t).PgBouncer.URL(newDB(t)), true)
	a, _ := newAggregator(t, pool, stats.Options{})
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
