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

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

func TestRateLimitFlags(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"DATABASE_URL": "postgres://x/db", "API": "true", "API_KEYS_FILE": keys, "API_CODE_KEY": "0123456789abcdef"}
	env := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		}
	}

	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if l := o.api.limits; l.ipRate != 5 || l.ipBurst != 20 || l.keyRate != 50 || l.keyBurst != 1000 || l.replicas != 1 || len(l.trusted) != 0 {
		t.Fatalf("default limits = %+v", l)
	}
	o, err = parseOptions([]string{"--api-ip-burst", "7"}, env(map[string]string{
		"API_IP_RATE": "0.5", "API_IP_BURST": "3", "API_KEY_RATE": "0", "API_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
		"API_REPLICAS": "3",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if l := o.api.limits; l.ipRate != 0.5 || l.ipBurst != 7 || l.keyRate != 0 || l.replicas != 3 || len(l.trusted) != 2 {
		t.Fatalf("limits from the environment = %+v", l)
	}

	for name, args := range map[string][]string{
		"negative rate":     {"--api-ip-rate", "-1"},
		"no burst":          {"--api-key-burst", "0"},
		"no replicas":       {"--api-replicas", "0"},
		"bad trusted proxy": {"--api-trusted-proxies", "10.0.0.0/8,proxy.example"},
	} {
		if _, err := parseOptions(args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: parseOptions accepted %q", name, args)
		}
	}
	if _, err := parseOptions([]string{"--api-key-rate", "0", "--api-key-burst", "0"}, env(nil), io.Discard); err != nil {
		t.Errorf("a disabled limit needs no burst: %v", err)
	}
}

// Two redirectors sharing Redis enforce one per-client limit between them; with Redis down each
// enforces its share and nothing fails; with Redis back the limit is shared again.
func TestAPIRateLimitAcrossRedirectors(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true, Redis: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys, codeKey := filepath.Join(dir, "keys"), filepath.Join(dir, "code-key")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(codeKey, []byte("a-secret-of-enough-bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const burst = 4
	var addrs, metricsAddrs [2]string
	for i := range addrs {
		runCtx, stop := context.WithCancel(ctx)
		logs, done := &syncBuffer{}, make(chan error, 1)
		go func() {
			done <- run(runCtx, []string{
				"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
				"--database-url", env.PgBouncer.URL("postgres"), "--redis-url", env.Redis.URL(), "--default-domain", "sho.rt",
				"--api", "--api-keys-file", keys, "--api-code-key-file", codeKey,
				// One request refills in 1000 s: what is allowed depends on counts alone.
				"--api-ip-rate", "0.001", "--api-ip-burst", fmt.Sprint(burst), "--api-key-rate", "0",
				"--api-trusted-proxies", "127.0.0.0/8", "--api-replicas", "2",
			}, noEnv, logs)
		}()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("redirector %d: run = %v", i, err)
			}
		})
		addrs[i], metricsAddrs[i] = servingAddresses(t, logs, done)
	}
	client := &http.Client{}
	// ask sends one API request to redirector i for the client at ip, through a trusted proxy.
	ask := func(i int, ip string) (int, http.Header) {
		req := mustRequest(t, "http://"+addrs[i]+"/api/v1/links/nope")
		req.Host = "sho.rt"
		req.Header.Set("Authorization", "Bearer 0123456789abcdef")
		req.Header.Set("X-Forwarded-For", ip)
		status, header, body := fetch(t, client, req)
		if status != http.StatusNotFound && status != http.StatusTooManyRequests {
			t.Fatalf("redirector %d answered %d %s; want 404 or 429", i, status, body)
		}
		if status == http.StatusTooManyRequests && (header.Get("Retry-After") == "" || header.Get("RateLimit-Remaining") != "0") {
			t.Fatalf("429 without Retry-After and RateLimit-* headers: %v", header)
		}
		return status, header
	}
	allowedEach := func(ip string, perRedirector int) [2]int {
		var n [2]int
		for range perRedirector {
			for i := range addrs {
				if status, _ := ask(i, ip); status == http.StatusNotFound {
					n[i]++
				}
			}
		}
		return n
	}

	if n := allowedEach("203.0.113.1", 3*burst); n[0]+n[1] != burst {
		t.Fatalf("allowed %v by the two redirectors; want %d in all", n, burst)
	}

	startRedis := localenv.StopForTest(t, env.Redis)
	if n := allowedEach("203.0.113.2", burst); n != [2]int{burst / 2, burst / 2} {
		t.Fatalf("with Redis down, allowed %v; want %d by each", n, burst/2)
	}

	startRedis()
	rdb := redis.NewClient(&redis.Options{Addr: env.Redis.Addr()})
	defer func() { _ = rdb.Close() }()
	probe := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe++
		ip := fmt.Sprintf("198.18.%d.%d", probe/250, probe%250) // a fresh bucket each time
		ask(0, ip)
		ask(1, ip)
		// Both requests in Redis leave the bucket two intervals (2000 s) from full.
		if ttl, err := rdb.PTTL(ctx, cache.RateLimitKeyPrefix+"ip:"+ip).Result(); err == nil && ttl > 1500*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redirectors never went back to Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := allowedEach("203.0.113.3", 3*burst); n[0]+n[1] != burst {
		t.Fatalf("after Redis returned, allowed %v; want %d in all", n, burst)
	}

	_, _, metrics := fetch(t, client, mustRequest(t, "http://"+metricsAddrs[0]+"/metrics"))
	for _, want := range []string{
		`shortlink_api_rate_limited_total{scope="ip"}`, `shortlink_api_rate_limited_total{scope="key"} 0`,
		`shortlink_api_rate_limit_fallback_total`, `shortlink_api_requests_total{operation="get",result="rate_limited"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, `shortlink_api_rate_limit_fallback_total 0`) {
		t.Error("shortlink_api_rate_limit_fallback_total is 0 after an outage")
	}
}
