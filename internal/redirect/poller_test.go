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

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// TestPollerForgetsOnlyWhatNoPollReadsAgain: over polls whose window slides, the transactions
// at or above pos stay remembered (a later poll reads them again and must not apply them
// twice), those below are forgotten, and a change below pos (read again to heal Redis) is
// applied again. The feed's behaviour against PostgreSQL is TestChangeFeedCatchesOutOfOrderCommits'
// and TestChangeFeedAppliesEachChangeOnce's.
func TestPollerForgetsOnlyWhatNoPollReadsAgain(t *testing.T) {
	p := &poller{applied: make(map[int64]int64)}
	change := func(v int64) store.Change {
		return store.Change{Row: store.Row{Link: links.Link{Version: v}}, Txid: v / 10}
	}
	for round := int64(1); round <= 5; round++ {
		// The last three transactions of the previous round are read again, then ten new ones
		// of ten versions each (versions start at 1).
		for v := (round-1)*100 - 30; v < round*100; v++ {
			again := v < (round-1)*100
			if v >= 1 && p.firstTime(change(v)) == again {
				t.Fatalf("round %d: version %d applied = %t, want %t", round, v, again, !again)
			}
		}
		p.pos = store.FeedStart(round*10 - 3)
		p.forgetApplied()
		want := map[int64]int64{}
		for txid := round*10 - 3; txid < round*10; txid++ {
			want[txid] = txid*10 + 9
		}
		if !maps.Equal(p.applied, want) {
			t.Fatalf("round %d: applied holds %v, want the transactions %d and later: %v", round, p.applied, p.pos.Txid, want)
		}
	}
	for range 2 {
		if !p.firstTime(change(5)) {
			t.Fatal("a change below pos, read again to heal Redis, was not applied again")
		}
	}
	p.pos = store.FeedStart(0)
	p.forgetApplied() // nothing below pos: nothing forgotten
	if len(p.applied) != 3 {
		t.Fatalf("applied holds %d transactions after forgetting nothing, want 3", len(p.applied))
	}
}
