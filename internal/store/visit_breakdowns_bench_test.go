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
	"testing"
	"time"
)

// BenchmarkSumBreakdowns measures a flush's summing in this process: a batch of 50,000 browser
// visits over 1,000 links counted per hour and by referrer and device, before the SQL.
//
//	go test -run '^$' -bench SumBreakdowns ./internal/store/
func BenchmarkSumBreakdowns(b *testing.B) {
	const ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	visits := make([]Visit, 50_000)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range visits {
		visits[i] = Visit{Code: fmt.Sprintf("c%d", i%1000), At: at, UserAgent: ua,
			Referer: fmt.Sprintf("https://site%d.example/post/%d", i%30, i)}
	}
	g := newVisitGroups()
	b.ReportAllocs()
	for b.Loop() {
		g.sum(visits)
		g.reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(visits)), "ns/visit")
}
