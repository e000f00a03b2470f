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

package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/stats"
)

// Not parallel: it sets the process's collector.
func TestTuneGCKeepsWhatTheEnvironmentSays(t *testing.T) {
	before := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(before); debug.SetMemoryLimit(limit) })

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != redirectorGCPercent {
		t.Errorf("GC percent with GOGC unset = %d, want %d", got, redirectorGCPercent)
	}
	env := map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}
	debug.SetMemoryLimit(math.MaxInt64)
	tuneGC(func(k string) string { return env[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent with GOGC set = %d, want it left alone (100)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit with GOMEMLIMIT set = %d, want it left alone", got)
	}
}

// The bound of held visits: the flag when given, else a quarter of the container's memory
// limit, else the aggregator's default.
func TestPendingVisitBytes(t *testing.T) {
	t.Parallel()
	limit := func(n int64) func() (int64, bool) { return func() (int64, bool) { return n, n > 0 } }
	for _, tt := range []struct {
		flag  int
		limit int64
		want  int64
	}{
		{4 << 20, 512 << 20, 4 << 20},
		{0, 512 << 20, 128 << 20},
		{0, 0, stats.DefaultMaxPendingBytes},
	} {
		o := options{statsMaxPendingBytes: tt.flag}
		if got := o.pendingVisitBytes(limit(tt.limit)); got != tt.want {
			t.Errorf("flag %d, container limit %d: bound %d, want %d", tt.flag, tt.limit, got, tt.want)
		}
	}
}

// The bound of the in-process cache: off if either flag is negative, else the bytes flag when
// given, else a quarter of the container's memory limit, else the resolver's default; a
// positive count (the deprecated flag) changes nothing.
func TestLocalCacheBytes(t *testing.T) {
	t.Parallel()
	limit := func(n int64) func() (int64, bool) { return func() (int64, bool) { return n, n > 0 } }
	for _, tt := range []struct {
		bytes, size int
		limit       int64
		want        int64
	}{
		{8 << 20, 0, 512 << 20, 8 << 20},
		{0, 0, 512 << 20, 128 << 20},
		{0, 0, 0, redirect.DefaultLocalBytes},
		{0, 100_000, 0, redirect.DefaultLocalBytes},
		{0, -1, 512 << 20, -1},
		{-1, 0, 512 << 20, -1},
	} {
		o := options{localBytes: tt.bytes, localSize: tt.size}
		if got := o.localCacheBytes(limit(tt.limit)); got != tt.want {
			t.Errorf("bytes %d, size %d, container limit %d: bound %d, want %d", tt.bytes, tt.size, tt.limit, got, tt.want)
		}
	}
}
