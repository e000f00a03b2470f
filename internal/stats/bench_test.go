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

package stats

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkRecord measures the hot path: Record while Run drains full batches in the
// background, with the database write left out.
func BenchmarkRecord(b *testing.B) {
	v := Visit{
		Code: "launch", At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), ClientIP: netip.MustParseAddr("203.0.113.7"),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", Referer: "https://example.com/",
	}
	b.Run("serial", func(b *testing.B) {
		a := discardingAggregator(b)
		b.ReportAllocs()
		for b.Loop() {
			a.Record(v)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		a := discardingAggregator(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				a.Record(v)
			}
		})
	})
}

// discardingAggregator runs an Aggregator whose batches are written nowhere.
func discardingAggregator(b *testing.B) *Aggregator {
	b.Helper()
	a := New(nil, Options{PodID: "bench", FlushInterval: 10 * time.Millisecond, MaxPending: 4_000_000})
	a.write = func(context.Context, *batch) (bool, error) { return false, nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = a.Run(ctx)
		close(done)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		if d := a.droppedTotal(); d > 0 {
			b.Errorf("%d visits dropped: the drain did not keep up, so the drop path was measured", d)
		}
	})
	return a
}
