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
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// One Redis serves the whole package. It starts on first use, so the tests that need none
// (parsing, fuzzing) run without it; each test that uses it starts from FLUSHALL. Tests here do
// not run in parallel: some stop and start the shared Redis.
var shared = localenv.Shared{Options: localenv.Options{Redis: true}}

func TestMain(m *testing.M) { os.Exit(localenv.RunTests(m, &shared)) }

// testRedis returns the shared Redis, empty, starting it on first use. A missing redis-server
// skips the test outside CI and fails it under CI=true.
func testRedis(t *testing.T) *localenv.Redis {
	t.Helper()
	r := shared.Env(t).Redis
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer func() { _ = c.Close() }()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis: %v", err)
	}
	return r
}

// newTestCache returns a Cache on a fresh client of the shared, empty Redis, and that client for
// inspecting keys.
func newTestCache(t *testing.T, opts cache.Options) (*cache.Cache, *redis.Client) {
	t.Helper()
	r := testRedis(t)
	rdb, err := cache.NewClient(r.URL(), cache.ClientOptions{Name: "cache-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return cache.New(rdb, opts), rdb
}

// eventually polls cond until it holds, failing the test after a generous timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
