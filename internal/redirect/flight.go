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
	"sync"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// flights lets one lookup per key run at a time: the first request for a key runs it on its
// own goroutine, and requests for the same key meanwhile wait for its answer, or for their own
// context. It replaces golang.org/x/sync/singleflight's DoChan, which starts a goroutine and
// makes a channel for every lookup so that the caller can stop waiting: on the Redis and
// PostgreSQL tiers that bookkeeping was a measurable share of each request. Here the leader
// does not watch its context (the lookup is bounded by its own deadlines, RedisTimeout and
// DBTimeout, whoever asked for it), a flight without followers allocates one small struct,
// and the channel a follower waits on is made only when there is a follower.
type flights struct {
	mu sync.Mutex
	m  map[key]*flight
}

type flight struct {
	link links.Link
	err  error
	// done is made by the first follower and closed when the flight ends; nil while none waits.
	done chan struct{}
}

var errFlightPanicked = errors.New("resolve link: lookup panicked")

// do returns fn's answer for k, running fn unless a flight for k is already under way.
func (g *flights) do(ctx context.Context, k key, fn func() (links.Link, error)) (links.Link, error) {
	g.mu.Lock()
	if f, ok := g.m[k]; ok {
		if f.done == nil {
			f.done = make(chan struct{})
		}
		done := f.done
		g.mu.Unlock()
		select {
		case <-done:
			return f.link, f.err
		case <-ctx.Done():
			return links.Link{}, fmt.Errorf("resolve link: %w", context.Cause(ctx))
		}
	}
	if g.m == nil {
		g.m = make(map[key]*flight)
	}
	f := &flight{err: errFlightPanicked}
	g.m[k] = f
	g.mu.Unlock()
	defer g.land(k, f) // a panicking fn leaves errFlightPanicked to the followers
	f.link, f.err = fn()
	return f.link, f.err
}

// land ends f's flight: later requests for k start one of their own, and followers get f's
// answer (written before the lock, so visible to them after done is closed).
func (g *flights) land(k key, f *flight) {
	g.mu.Lock()
	if g.m[k] == f {
		delete(g.m, k)
	}
	if f.done != nil {
		close(f.done)
	}
	g.mu.Unlock()
}

// forget makes later requests for k start a flight of their own rather than join the one under
// way, whose answer may predate a change; the requests already waiting still get that answer.
func (g *flights) forget(k key) {
	g.mu.Lock()
	delete(g.m, k)
	g.mu.Unlock()
}
