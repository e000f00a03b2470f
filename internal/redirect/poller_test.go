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
	"maps"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/store"
)

// TestPollerForgetsOnlyWhatNoPollReadsAgain: over polls whose window slides, the applied
// changes at or above pos stay remembered (a later poll reads them again and must not apply
// them twice), those below are forgotten, and the map still answers after being refilled.
// The feed's behaviour against PostgreSQL is TestChangeFeedCatchesOutOfOrderCommits'.
func TestPollerForgetsOnlyWhatNoPollReadsAgain(t *testing.T) {
	p := &poller{applied: make(map[int64]int64)}
	for round := int64(1); round <= 5; round++ {
		for v := (round - 1) * 100; v < round*100; v++ {
			p.applied[v] = v / 10 // ten versions a transaction
		}
		p.pos = store.FeedStart(round*10 - 3) // the last three transactions are read again
		p.forgetApplied()
		want := make(map[int64]int64)
		for v := round*100 - 30; v < round*100; v++ {
			want[v] = v / 10
		}
		if !maps.Equal(p.applied, want) {
			t.Fatalf("round %d: applied holds %d changes %v, want the %d of transactions %d and later",
				round, len(p.applied), p.applied, len(want), p.pos.Txid)
		}
	}
	p.pos = store.FeedStart(0)
	p.forgetApplied() // nothing below pos: nothing forgotten
	if len(p.applied) != 30 {
		t.Fatalf("applied holds %d changes after forgetting nothing, want 30", len(p.applied))
	}
}
