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
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// BenchmarkHeal writes a page of 1,000 changes (one in ten a tombstone) to Redis in one pipeline
// and one call at a time, as the redirector's change-feed poller did. "new" pages carry versions
// Redis has not seen, so every entry is written (the first replica to heal); "seen" pages are
// refused by the version check (every other replica). cpu-ms/op is this process's CPU,
// redis-cpu-ms/op the server's.
func BenchmarkHeal(b *testing.B) {
	const pageSize = 1000
	for _, fresh := range []bool{true, false} {
		for _, mode := range []string{"pipelined", "one-by-one"} {
			name := map[bool]string{true: "new", false: "seen"}[fresh] + "/" + mode
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				c, rdb := benchCache(b)
				page := benchPage(pageSize)
				heal := healFunc(c, mode)
				if err := heal(ctx, page); err != nil { // loads the script; "seen" pages start seen
					b.Fatal(err)
				}
				redisCPU, cpu := serverCPU(b, rdb), processCPU()
				for b.Loop() {
					if fresh {
						for i := range page {
							page[i].Link.Version += pageSize
						}
					}
					if err := heal(ctx, page); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(processCPU()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(serverCPU(b, rdb)-redisCPU)/float64(time.Millisecond)/float64(b.N), "redis-cpu-ms/op")
			})
		}
	}
}

func healFunc(c *cache.Cache, mode string) func(context.Context, []cache.Entry) error {
	if mode == "pipelined" {
		return func(ctx context.Context, page []cache.Entry) error { _, err := c.Heal(ctx, page); return err }
	}
	return func(ctx context.Context, page []cache.Entry) error {
		for _, e := range page {
			var err error
			if e.Deleted {
				_, err = c.Delete(ctx, e.Link.Domain, e.Link.Code, e.Link.Version)
			} else {
				_, err = c.Set(ctx, e.Link)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

func benchCache(b *testing.B) (*cache.Cache, *redis.Client) {
	b.Helper()
	r := shared.Env(b).Redis
	rdb, err := cache.NewClient(r.URL(), cache.ClientOptions{Name: "cache-bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}
	return cache.New(rdb, cache.Options{}), rdb
}

// benchPage is what a batch create through the API makes: distinct codes, consecutive versions.
func benchPage(n int) []cache.Entry {
	page := make([]cache.Entry, n)
	for i := range page {
		l := links.Link{
			Code: fmt.Sprintf("batch%05d", i), Target: fmt.Sprintf("https://example.com/campaigns/2026/spring/landing-%d?utm_source=mail", i),
			RedirectType: 302, Source: links.SourceAPI, Owner: "api-key-7", Tags: []string{"campaign", "spring"}, Version: int64(i + 1),
		}
		page[i] = cache.Entry{Link: l, Deleted: i%10 == 9}
	}
	return page
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the Redis server's CPU time so far, from INFO cpu.
func serverCPU(b *testing.B, rdb *redis.Client) time.Duration {
	b.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for line := range strings.Lines(info) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "used_cpu_sys" && name != "used_cpu_user") {
			continue
		}
		seconds, err := strconv.ParseFloat(value, 64)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Duration(seconds * float64(time.Second))
	}
	return total
}
