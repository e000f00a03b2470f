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
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// BenchmarkVisitWrite measures a stats flush's CPU in the redirector: VisitWriter.Write of a
// batch of 20,000 browser visits (about a second of the million scenario's traffic), through
// PgBouncer. cpu-ns/visit is this process's CPU (user and system) a visit, PostgreSQL's left
// out; ns/visit is the wall time, both.
//
//	go test -run '^$' -bench VisitWrite -benchmem ./internal/store/
func BenchmarkVisitWrite(b *testing.B) {
	const batch = 20_000
	for _, tc := range []struct {
		name     string
		links    int
		referers bool
	}{
		{"links=1000", 1_000, false},        // the hot scenario: few links, many visits each
		{"links=1000000", 1_000_000, false}, // the million scenario: nearly a link a visit
		{"links=1000000/referers", 1_000_000, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := benchStore(b).NewVisitWriter()
			batches := benchVisitBatches(batch, tc.links, tc.referers)
			seq := 0
			var cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				seq++
				before := processCPU(b)
				if _, err := w.Write(context.Background(), fmt.Sprintf("bench/%d", seq), batches[seq%len(batches)]); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU(b) - before
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/visit")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/visit")
		})
	}
}

// benchVisitBatches builds ten batches of browser visits spread over links, a third of them
// with a Referer when referers is set, built before the timer runs.
func benchVisitBatches(size, links int, referers bool) [][]Visit {
	ip := netip.MustParseAddr("192.0.2.7")
	at := time.Now()
	batches := make([][]Visit, 10)
	n := 0
	for i := range batches {
		batches[i] = make([]Visit, size)
		for j := range batches[i] {
			n++
			v := Visit{Code: fmt.Sprintf("c%d", (n*7919)%links), At: at, ClientIP: ip, UserAgent: benchChrome}
			if referers && n%3 == 0 {
				v.Referer = fmt.Sprintf("https://site%d.example/post/%d", n%50, n)
			}
			batches[i][j] = v
		}
	}
	return batches
}

const benchChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// processCPU is the CPU this process has used so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
