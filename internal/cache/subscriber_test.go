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

package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

func TestPublishReachesSubscriber(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(t, cache.Options{})
	sub := c.Subscribe(ctx)
	t.Cleanup(func() { _ = sub.Close() })
	awaitResync(t, sub)

	for _, inv := range []cache.Invalidation{
		{Domain: "go.example.com", Code: "docs", Version: 42},
		{Code: "x", Version: 43},
	} {
		if err := c.Publish(ctx, inv); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if got := awaitInvalidation(t, sub); got != inv {
			t.Fatalf("received %+v, want %+v", got, inv)
		}
	}
}

func TestPublishRefusesWhatCannotBeParsed(t *testing.T) {
	c, _ := newTestCache(t, cache.Options{})
	for _, inv := range []cache.Invalidation{
		{Code: "a:b", Version: 1}, {Domain: "a:b", Code: "c", Version: 1}, {Code: "c"},
	} {
		if err := c.Publish(context.Background(), inv); err == nil {
			t.Errorf("Publish(%+v) succeeded, want an error", inv)
		}
	}
}

func TestSubscriberResyncsAfterRedisRestart(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCache(t, cache.Options{})
	r := testRedis(t)
	sub := c.Subscribe(ctx)
	t.Cleanup(func() { _ = sub.Close() })
	awaitResync(t, sub)

	localenv.StopForTest(t, r)()
	awaitResync(t, sub)

	inv := cache.Invalidation{Code: "after", Version: 7}
	eventually(t, "publish after restart", func() bool { return c.Publish(ctx, inv) == nil })
	if got := awaitInvalidation(t, sub); got != inv {
		t.Fatalf("received %+v, want %+v", got, inv)
	}
}

func TestSubscriberResyncsOnMalformedMessage(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	sub := c.Subscribe(ctx)
	t.Cleanup(func() { _ = sub.Close() })
	awaitResync(t, sub)

	if err := rdb.Publish(ctx, cache.Channel, "not an invalidation").Err(); err != nil {
		t.Fatal(err)
	}
	awaitResync(t, sub)
}

func TestSubscriberStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := newTestCache(t, cache.Options{})
	sub := c.Subscribe(ctx)
	cancel()
	for range sub.Invalidations() {
		// Drain until closed; a Subscriber that ignored its context would hang here.
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("Close after stop: %v", err)
	}
}

const receiveTimeout = 30 * time.Second

func awaitResync(t *testing.T, sub *cache.Subscriber) {
	t.Helper()
	select {
	case _, ok := <-sub.Resync():
		if !ok {
			t.Fatal("Resync closed")
		}
	case <-time.After(receiveTimeout):
		t.Fatal("no resync signal")
	}
}

func awaitInvalidation(t *testing.T, sub *cache.Subscriber) cache.Invalidation {
	t.Helper()
	select {
	case inv, ok := <-sub.Invalidations():
		if !ok {
			t.Fatal("Invalidations closed")
		}
		return inv
	case <-time.After(receiveTimeout):
		t.Fatal("no invalidation received")
	}
	return cache.Invalidation{}
}
