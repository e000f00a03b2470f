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

package redirect

import (
	"fmt"
	"testing"
	"time"
)

// A floor lives at least the ttl after it is raised, whatever else is raised meanwhile within
// the size, and is gone after twice the ttl; a lower version never replaces it.
func TestGuardFloorsLiveTheirTTL(t *testing.T) {
	t.Parallel()
	clock := &manualClock{}
	clock.now.Store(int64(time.Hour))
	g := newGuard(1000, time.Minute, clock)
	k := key{domain: "s.example", code: "abc"}

	g.raise(k, 7)
	g.raise(k, 5)
	if got := g.floor(k); got != 7 {
		t.Fatalf("floor after raising 7 then 5 = %d, want 7", got)
	}
	for _, step := range []time.Duration{30 * time.Second, 29 * time.Second} {
		clock.now.Add(int64(step))
		g.raise(key{domain: "s.example", code: fmt.Sprint("other", step)}, 1) // swaps the shard when due
	}
	if got := g.floor(k); got != 7 {
		t.Fatalf("floor 59 s after raising = %d, want 7 (a floor lives at least the ttl)", got)
	}
	clock.now.Add(int64(2 * time.Minute))
	if got := g.floor(k); got != 0 {
		t.Fatalf("floor after twice the ttl = %d, want none", got)
	}

	s := g.snapshot(k)
	if !g.allowsAbsence(k, s) || !g.allowsLink(k, s, 1) {
		t.Fatal("a fill with nothing between its start and its store was refused")
	}
	g.raise(k, 9)
	if g.allowsAbsence(k, s) || g.allowsLink(k, s, 8) || !g.allowsLink(k, s, 9) {
		t.Fatal("after an invalidation for 9: want absence and version 8 refused, version 9 allowed")
	}
	g.flush()
	if g.allowsLink(k, s, 9) {
		t.Fatal("a fill that started before a flush was allowed to store")
	}
}

// The guard holds at most about its size, however many keys are raised, and the floors raised
// last are kept.
func TestGuardStaysWithinItsSize(t *testing.T) {
	t.Parallel()
	clock := &manualClock{}
	clock.now.Store(int64(time.Hour))
	g := newGuard(1600, time.Minute, clock)
	for i := range 100_000 {
		g.raise(key{domain: "s.example", code: fmt.Sprint(i)}, int64(i+1))
	}
	held := 0
	for i := range g.shards {
		held += len(g.shards[i].cur) + len(g.shards[i].prev)
	}
	if held > 1600 {
		t.Errorf("the guard holds %d floors, want at most its size, 1600", held)
	}
	for i := 100_000 - 400; i < 100_000; i++ {
		if got := g.floor(key{domain: "s.example", code: fmt.Sprint(i)}); got != int64(i+1) {
			t.Fatalf("floor of the %dth key raised = %d, want %d (recent floors are kept)", i, got, i+1)
		}
	}
}

func BenchmarkGuardRaise(b *testing.B) {
	clock := &manualClock{}
	g := newGuard(DefaultFloorSize, DefaultFloorTTL, clock)
	keys := make([]key, 1<<20) // more than the size: every raise is of a key the guard no longer holds, as in an import
	for i := range keys {
		keys[i] = key{domain: "s.example", code: fmt.Sprint(i)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.raise(keys[i&(len(keys)-1)], int64(i+1))
	}
}
