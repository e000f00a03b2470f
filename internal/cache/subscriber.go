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

package cache

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// invalidationBuffer is how many invalidations wait for a slow reader before the Subscriber
// drops them and asks for a resync instead.
const invalidationBuffer = 1024

// Subscriber receives invalidations for the redirector. go-redis keeps the subscription alive:
// it pings an idle connection, and reconnects and resubscribes after a failure, for as long as
// the Subscriber is open.
type Subscriber struct {
	ps            *redis.PubSub
	invalidations chan Invalidation
	resync        chan struct{}
	done          chan struct{}
	closeOnce     sync.Once
	closeErr      error
}

// Subscribe starts listening on Channel and returns at once; Redis may be down, in which case
// the subscription is established when it comes back. The Subscriber stops when ctx ends or
// Close is called.
func (c *Cache) Subscribe(ctx context.Context) *Subscriber {
	s := &Subscriber{
		ps:            c.rdb.Subscribe(ctx, Channel),
		invalidations: make(chan Invalidation, invalidationBuffer),
		resync:        make(chan struct{}, 1),
		done:          make(chan struct{}),
	}
	go s.run(s.ps.ChannelWithSubscriptions())
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return s
}

// Invalidations delivers each invalidation received. It is closed when the Subscriber stops.
func (s *Subscriber) Invalidations() <-chan Invalidation { return s.invalidations }

// Resync receives a value whenever invalidations may have been missed, so the reader must drop
// every entry it caches: each time the subscription is established (once at start, and again
// after every reconnect, as pub/sub keeps nothing for an absent subscriber), when the reader
// fell more than invalidationBuffer messages behind, and when a message could not be read.
// Signals that arrive before the reader takes the previous one are merged into it. It is closed
// when the Subscriber stops.
func (s *Subscriber) Resync() <-chan struct{} { return s.resync }

// Close stops the Subscriber and waits until both channels are closed. It is safe to call more
// than once.
func (s *Subscriber) Close() error {
	s.closeOnce.Do(func() {
		if err := s.ps.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			s.closeErr = err
		}
		<-s.done
	})
	return s.closeErr
}

// run forwards go-redis's messages until it closes its channel on Close. It never blocks on the
// reader, so a slow reader cannot stall go-redis's receive loop or its health checks.
func (s *Subscriber) run(msgs <-chan any) {
	defer close(s.done)
	defer close(s.resync)
	defer close(s.invalidations)
	for msg := range msgs {
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				s.signalResync()
			}
		case *redis.Message:
			inv, err := ParseInvalidation(msg.Payload)
			if err != nil {
				s.signalResync()
				continue
			}
			select {
			case s.invalidations <- inv:
			default:
				s.signalResync()
			}
		}
	}
}

func (s *Subscriber) signalResync() {
	select {
	case s.resync <- struct{}{}:
	default:
	}
}
