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
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Dropped visits are logged at most once a minute, each line saying how many were dropped
// since the last; the clock is the aggregator's own, moved by hand.
func TestDroppedVisitsLoggedOnceAMinute(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := New(nil, Options{
		PodID: "test", MaxPending: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now: func() time.Time { return now },
	})
	lines := func() []string { return strings.FieldsFunc(logs.String(), func(r rune) bool { return r == '\n' }) }
	record := func(n int) {
		for range n {
			a.Record(Visit{Code: "c"})
		}
	}

	a.logDrops()
	if len(lines()) != 0 {
		t.Fatalf("logged with nothing dropped: %q", lines())
	}
	record(5) // 2 held, 3 dropped
	a.logDrops()
	record(4)
	now = now.Add(59 * time.Second)
	a.logDrops()
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "dropped=3 ") {
		t.Fatalf("after 7 drops within a minute, logged %q; want one line with dropped=3", got)
	}
	now = now.Add(time.Second)
	a.logDrops()
	a.logDrops()
	if got := lines(); len(got) != 2 || !strings.Contains(got[1], "dropped=4 ") || !strings.Contains(got[1], "droppedTotal=7 ") {
		t.Fatalf("a minute later, logged %q; want a second line with dropped=4 droppedTotal=7", got)
	}
}
