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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// lookupInFlight starts a flight for k that lasts until release is closed, and returns once it
// is under way.
func lookupInFlight(g *flights, k key, calls *atomic.Int32, release chan struct{}) <-chan links.Link {
	started, out := make(chan struct{}), make(chan links.Link, 1)
	go func() {
		l, _ := g.do(context.Background(), k, func() (links.Link, error) {
			calls.Add(1)
			close(started)
			<-release
			return links.Link{Code: k.code, Version: 1}, nil
		})
		out <- l
	}()
	<-started
	return out
}

func TestFlightsRunOneLookupPerKey(t *testing.T) {
	var g flights
	var calls atomic.Int32
	release := make(chan struct{})
	k := key{code: "a"}
	leader := lookupInFlight(&g, k, &calls, release)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			l, err := g.do(context.Background(), k, func() (links.Link, error) {
				calls.Add(1)
				return links.Link{}, errors.New("a second lookup ran")
			})
			if err != nil || l.Version != 1 {
				t.Errorf("follower got %+v, %v; want the leader's answer", l, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let the followers join
	close(release)
	wg.Wait()
	if l := <-leader; l.Version != 1 || calls.Load() != 1 {
		t.Fatalf("leader got %+v after %d lookups; want version 1 after 1", l, calls.Load())
	}
}

func TestAFollowerStopsWaitingWithItsContext(t *testing.T) {
	var g flights
	var calls atomic.Int32
	release := make(chan struct{})
	defer close(release)
	k := key{code: "slow"}
	lookupInFlight(&g, k, &calls, release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.do(ctx, k, func() (links.Link, error) { return links.Link{}, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("do = %v; want context.Canceled", err)
	}
}

func TestForgetStartsANewFlight(t *testing.T) {
	var g flights
	var calls atomic.Int32
	release := make(chan struct{})
	k := key{code: "changed"}
	old := lookupInFlight(&g, k, &calls, release)
	g.forget(k)
	l, err := g.do(context.Background(), k, func() (links.Link, error) { return links.Link{Version: 2}, nil })
	if err != nil || l.Version != 2 {
		t.Fatalf("after forget: %+v, %v; want a lookup of its own", l, err)
	}
	close(release)
	<-old
	// The old flight's landing must not remove a later one: a new flight still runs alone.
	hold := make(chan struct{})
	newer := lookupInFlight(&g, k, &calls, hold)
	g.mu.Lock()
	n := len(g.m)
	g.mu.Unlock()
	close(hold)
	<-newer
	if n != 1 {
		t.Fatalf("%d flights in the map; want 1", n)
	}
}

func TestAPanickingLookupReleasesItsFollowers(t *testing.T) {
	var g flights
	k := key{code: "boom"}
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _ = g.do(context.Background(), k, func() (links.Link, error) {
			close(started)
			<-release
			panic("lookup failed")
		})
	}()
	<-started
	done := make(chan error, 1)
	go func() {
		_, err := g.do(context.Background(), k, func() (links.Link, error) { return links.Link{}, nil })
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	select {
	case err := <-done:
		if !errors.Is(err, errFlightPanicked) && err != nil {
			t.Fatalf("follower got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follower still waiting after the leader panicked")
	}
}
