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
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/cache"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A failed dial is logged by go-redis; LogTo makes that a Debug line of ours, dropped at Info.
func TestLogToSendsGoRedisLinesAtDebug(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: every dial fails

	dial := func(level slog.Level) string {
		var out lockedBuffer
		cache.LogTo(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level})))
		rdb, err := cache.NewClient("redis://"+dead, cache.ClientOptions{MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rdb.Close() }()
		if err := rdb.Ping(context.Background()).Err(); err == nil {
			t.Fatal("PING to a closed port succeeded")
		}
		return out.String()
	}
	t.Cleanup(func() { cache.LogTo(slog.New(slog.DiscardHandler)) })
	if got := dial(slog.LevelDebug); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "component=go-redis") ||
		!strings.Contains(got, "connection refused") {
		t.Fatalf("at Debug, go-redis's dial failure was logged as %q", got)
	}
	if got := dial(slog.LevelInfo); got != "" {
		t.Fatalf("at Info, go-redis's dial failure still logged %q", got)
	}
}
