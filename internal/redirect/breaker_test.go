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
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var changes []bool
	b := newBreaker(3, 5*time.Second, func() time.Time { return now }, func(up bool) { changes = append(changes, up) })
	down := fmt.Errorf("get: %w", io.ErrUnexpectedEOF)

	for range 2 {
		if !b.allow() {
			t.Fatal("breaker open before the threshold")
		}
		b.record(down)
	}
	b.record(nil) // an answer resets the count
	for range 3 {
		b.allow()
		b.record(down)
	}
	if b.allow() || len(changes) != 1 || changes[0] {
		t.Fatalf("after 3 consecutive failures: allow, changes = %v, %v; want open", b.allow(), changes)
	}
	now = now.Add(5 * time.Second)
	if !b.allow() || b.allow() {
		t.Fatal("after the cool-down: want exactly one probe")
	}
	b.record(down) // the probe fails: open again for a cool-down
	if b.allow() {
		t.Fatal("allowed right after a failed probe")
	}
	now = now.Add(5 * time.Second)
	if !b.allow() {
		t.Fatal("no probe after the second cool-down")
	}
	b.record(errors.New("malformed entry")) // Redis answered: that is not unavailability
	for range 2 {                           // closed: no probing any more
		if !b.allow() {
			t.Fatal("a call refused after a successful probe")
		}
	}
	if len(changes) != 2 || !changes[1] {
		t.Fatalf("after a successful probe: changes = %v; want closed", changes)
	}
	b.allow()
	b.record(context.Canceled) // the caller gave up: neither
	if !b.allow() {
		t.Fatal("a cancelled call opened the breaker")
	}
}
