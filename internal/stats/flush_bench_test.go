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
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/stats"
)

// BenchmarkFlush writes batches of visits over 1,000 links through PgBouncer, as a redirector's
// flush does: the batch id, the counts (visit_hours and url_stats), the visit_logs COPY. It
// reports the wall time per visit, which on an otherwise idle machine is the flush's CPU in this
// process and in PostgreSQL's backend.
//
//	go test -run '^$' -bench Flush ./internal/stats/
func BenchmarkFlush(b *testing.B) {
	const links = 1_000
	for _, tc := range []struct {
		batch     int
		userAgent string
	}{
		{10_000, ""}, // wrk, in make bench, sends none
		{50_000, ""}, // the default batch size
		{50_000, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"},
	} {
		name := fmt.Sprintf("batch=%d/user-agent=%t", tc.batch, tc.userAgent != "")
		b.Run(name, func(b *testing.B) {
			st := openStore(b, testEnv(b).PgBouncer.URL(newDB(b)), true)
			a, _ := newAggregator(b, st, stats.Options{BatchSize: tc.batch + 1, MaxPending: 2 * tc.batch})
			codes := make([]string, links)
			for i := range codes {
				codes[i] = fmt.Sprintf("c%d", i)
			}
			ip := netip.MustParseAddr("127.0.0.1")
			ctx := context.Background()
			n := 0
			for b.Loop() {
				b.StopTimer()
				for range tc.batch {
					n++
					a.Record(stats.Visit{Code: codes[n%links], At: time.Now(), ClientIP: ip, UserAgent: tc.userAgent})
				}
				b.StartTimer()
				if err := a.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/visit")
		})
	}
}
