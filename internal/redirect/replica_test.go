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
	"testing"
	"time"
)

// The lag is the age of the oldest primary position the replica has not replayed: none on an
// idle primary however long ago it wrote, and never understated once samples are merged.
// (The replica's behaviour against real servers is tested in cmd/redirector.)
func TestLagMeter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var m lagMeter
	m.sample(at(0), 100)
	m.sample(at(1), 200)
	m.sample(at(2), 200) // nothing written: not a new sample
	if got := m.behind(at(3), 100); got != 2*time.Second {
		t.Fatalf("replayed 100 of 200 written at 1s: lag %s at 3s, want 2s", got)
	}
	if got := m.behind(at(60), 200); got != 0 {
		t.Fatalf("replayed everything an idle primary wrote: lag %s, want 0", got)
	}
	m.sample(at(61), 300)
	if got := m.behind(at(70), 200); got != 9*time.Second {
		t.Fatalf("behind the write at 61s: lag %s at 70s, want 9s", got)
	}

	var full lagMeter
	for i := range maxWALSamples + 10 {
		full.sample(at(i), int64(i+1))
	}
	if len(full.samples) != maxWALSamples {
		t.Fatalf("%d samples kept, want at most %d", len(full.samples), maxWALSamples)
	}
	now := at(maxWALSamples + 10)
	if got := full.behind(now, 5); got != now.Sub(at(0)) {
		t.Fatalf("after merging: lag %s, want %s (the oldest write not replayed)", got, now.Sub(at(0)))
	}
}
