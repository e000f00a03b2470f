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
	"testing"
	"time"
)

func TestDeadlineContextsEndAfterTheirTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	d := newDeadlines(timeout)
	start := time.Now()
	ctx := d.context()
	deadline, ok := ctx.Deadline()
	if !ok || deadline.Before(start.Add(timeout)) || deadline.After(time.Now().Add(timeout+deadlineWindow)) {
		t.Fatalf("deadline %v after start; want within [%v, %v]", deadline.Sub(start), timeout, timeout+deadlineWindow)
	}
	<-ctx.Done()
	if waited := time.Since(start); waited < timeout || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("ended after %v with %v; want at least %v, DeadlineExceeded", waited, ctx.Err(), timeout)
	}
	// A call after the window gets a context of its own, with its full timeout.
	later := d.context()
	if later.Err() != nil {
		t.Fatalf("a later call got an ended context: %v", later.Err())
	}
}
