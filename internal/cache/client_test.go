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
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

func TestNewClientOptions(t *testing.T) {
	for _, tc := range []struct {
		name        string
		url         string
		opts        cache.ClientOptions
		wantRead    time.Duration
		wantDial    time.Duration
		wantRetries int
	}{
		{"defaults", "redis://127.0.0.1:6379/0", cache.ClientOptions{}, cache.DefaultTimeout, cache.DefaultTimeout, cache.DefaultMaxRetries},
		{"url parameters", "redis://127.0.0.1:6379/0?read_timeout=2s&max_retries=3", cache.ClientOptions{}, 2 * time.Second, cache.DefaultTimeout, 3},
		{"options win", "redis://127.0.0.1:6379/0?read_timeout=2s", cache.ClientOptions{ReadTimeout: time.Second, DialTimeout: time.Second, MaxRetries: -1},
			time.Second, time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, err := cache.NewClient(tc.url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rdb.Close() }()
			o := rdb.Options()
			if o.ReadTimeout != tc.wantRead || o.DialTimeout != tc.wantDial || o.MaxRetries != tc.wantRetries || !o.ContextTimeoutEnabled {
				t.Fatalf("read %v, dial %v, retries %d, context timeouts %v; want %v, %v, %d, true",
					o.ReadTimeout, o.DialTimeout, o.MaxRetries, o.ContextTimeoutEnabled, tc.wantRead, tc.wantDial, tc.wantRetries)
			}
		})
	}
	if _, err := cache.NewClient("http://example.com", cache.ClientOptions{}); err == nil {
		t.Fatal("NewClient accepted an http URL")
	}
}

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{links.ErrNotFound, false},
		{redis.Nil, false},
		{errors.New("ERR unknown command"), false},
		{context.Canceled, false},
		{fmt.Errorf("get: %w", refused), true},
		{fmt.Errorf("get: %w", redis.ErrPoolTimeout), true},
		{context.DeadlineExceeded, true},
		{os.ErrDeadlineExceeded, true},
		{io.EOF, true},
		{&net.DNSError{Err: "no such host", Name: "redis"}, true},
	} {
		if got := cache.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRedisDownIsUnavailableThenRecovers(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	r := testRedis(t)
	l := links.Link{Code: "up", Target: "https://example.com/", RedirectType: 302, Version: 1}
	if _, err := c.Set(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "NOSUCHCOMMAND").Err(); err == nil || cache.IsUnavailable(err) {
		t.Fatalf("an error answered by Redis = %v; want an error that is not unavailability", err)
	}

	start := localenv.StopForTest(t, r)
	// No deadline on ctx: the client's own timeouts must bound every call.
	for name, call := range map[string]func() error{
		"set":     func() error { _, err := c.Set(ctx, l); return err },
		"delete":  func() error { _, err := c.Delete(ctx, "", "up", 2); return err },
		"get":     func() error { _, err := c.Get(ctx, "", "up"); return err },
		"publish": func() error { return c.Publish(ctx, cache.Invalidation{Code: "up", Version: 2}) },
	} {
		err := call()
		if err == nil || !cache.IsUnavailable(err) || errors.Is(err, links.ErrNotFound) {
			t.Errorf("%s with Redis down = %v; want an unavailability error", name, err)
		}
	}

	start()
	eventually(t, "the same client to write again", func() bool {
		written, err := c.Set(ctx, l)
		return err == nil && written
	})
	if e, err := c.Get(ctx, "", "up"); err != nil || e.Link.Version != 1 {
		t.Fatalf("Get after restart = %+v, %v", e, err)
	}
}

func TestStalledRedisTimesOut(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	// CLIENT PAUSE holds every command without closing connections: a hung server, not a dead one.
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatalf("pause redis: %v", err)
	}
	_, err := c.Get(ctx, "", "stalled")
	if err == nil || !cache.IsUnavailable(err) || errors.Is(err, links.ErrNotFound) {
		t.Fatalf("Get from a stalled Redis = %v; want an unavailability error", err)
	}
	eventually(t, "redis to answer again", func() bool {
		_, err := c.Get(ctx, "", "stalled")
		return errors.Is(err, links.ErrNotFound)
	})
}
