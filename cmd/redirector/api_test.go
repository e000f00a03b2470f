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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

func TestAPIConfigurationErrors(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"DATABASE_URL": "postgres://x/db", "API": "true"}
	tests := []struct {
		name string
		args []string
	}{
		{"no keys file", []string{"--api-code-key", "0123456789abcdef"}},
		{"no code key", []string{"--api-keys-file", keys}},
		{"both code keys", []string{"--api-keys-file", keys, "--api-code-key", "0123456789abcdef", "--api-code-key-file", keys}},
		{"short code key", []string{"--api-keys-file", keys, "--api-code-key", "short"}},
		{"bad min length", []string{"--api-keys-file", keys, "--api-code-key", "0123456789abcdef", "--api-min-code-length", "0"}},
		{"missing keys file", []string{"--api-keys-file", keys + ".missing", "--api-code-key", "0123456789abcdef"}},
		{"negative reload interval", []string{"--api-keys-file", keys, "--api-code-key", "0123456789abcdef", "--api-keys-reload-interval", "-1s"}},
		{"api address without api", []string{"--api=false", "--api-address", "127.0.0.1:0"}},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(k string) string { return base[k] }, io.Discard)
		if err == nil {
			t.Errorf("%s: run = nil, want an error", tt.name)
		}
	}
}

// The binary with --api serves the create API next to the redirects; a link made through it
// redirects, and the API's metrics are on the redirector's registry.
func TestServesAPI(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true})
	ctx := context.Background()
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys, codeKey, blocklist := filepath.Join(dir, "keys"), filepath.Join(dir, "code-key"), filepath.Join(dir, "blocklist")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(codeKey, []byte("a-secret-of-enough-bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocklist, []byte("blocked.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{
			"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
			"--database-url", env.PgBouncer.URL("postgres"), "--default-domain", "sho.rt",
			"--api", "--api-keys-file", keys, "--api-code-key-file", codeKey, "--api-min-code-length", "7",
			"--api-keys-reload-interval", "20ms", "--base-url", "http://sho.rt:8080/",
			"--blocklist-file", blocklist, "--blocklist-poll-interval", "20ms",
		}, noEnv, logs)
	}()
	addr, metricsAddr := servingAddresses(t, logs, done)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/links", strings.NewReader(`{"target": "https://example.com/api"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "sho.rt"
	req.Header.Set("Authorization", "Bearer 0123456789abcdef")
	status, header, body := fetch(t, client, req)
	code := strings.TrimPrefix(header.Get("Location"), "/api/v1/links/")
	if status != http.StatusCreated || len(code) != 7 || !strings.Contains(body, `"shortURL":"http://sho.rt:8080/`+code+`"`) {
		t.Fatalf("create = %d %q %s, want 201 with a 7-character code", status, header.Get("Location"), body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		get := mustRequest(t, "http://"+addr+"/"+code)
		get.Host = "sho.rt"
		if status, header, _ := fetch(t, client, get); status == http.StatusFound && header.Get("Location") == "https://example.com/api" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /%s never redirected", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, metrics := fetch(t, client, mustRequest(t, "http://"+metricsAddr+"/metrics")); !strings.Contains(metrics,
		`shortlink_api_requests_total{operation="create",result="ok"} 1`) {
		t.Fatalf("metrics lack the create:\n%s", metrics)
	}
	assertBlocklistFollowed(t, client, addr, blocklist)
	assertKeysReload(t, client, addr, keys, code)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run after SIGTERM = %v", err)
	}
}

// assertKeysReload rewrites the keys file under the running binary: the new key is taken
// without a restart, and the old one refused. The new key keeps the old one's name, as a
// rotation does, so it still owns the link the old key made.
func assertKeysReload(t *testing.T, client *http.Client, addr, keysFile, code string) {
	t.Helper()
	get := func(key string) int {
		req := mustRequest(t, "http://"+addr+"/api/v1/links/"+code)
		req.Host = "sho.rt"
		req.Header.Set("Authorization", "Bearer "+key)
		status, _, _ := fetch(t, client, req)
		return status
	}
	if err := os.WriteFile(keysFile+".new", []byte("ci:fedcba9876543210 ops=read\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keysFile+".new", keysFile); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for get("fedcba9876543210") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the new key was never accepted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status := get("0123456789abcdef"); status != http.StatusUnauthorized {
		t.Fatalf("the old key after the reload = %d, want 401", status)
	}
}

// With --api-address the API has a listener of its own, and the redirect listener keeps
// /api/v1/ reserved. Nothing here needs PostgreSQL: the OpenAPI document and a refused key
// answer without it.
func TestServesAPIOnItsOwnAddress(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{
			"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0",
			"--database-url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
			"--default-domain", "sho.rt", "--stats=false",
			"--api", "--api-keys-file", keys, "--api-code-key", "a-secret-of-enough-bytes",
		}, noEnv, logs)
	}()
	addr, _ := servingAddresses(t, logs, done)
	var apiAddr string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var entry struct{ Msg, APIAddress string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "Serving the API" {
			apiAddr = entry.APIAddress
		}
	}
	if apiAddr == "" || apiAddr == addr {
		t.Fatalf("API address %q, want one apart from %q:\n%s", apiAddr, addr, logs.String())
	}
	client := &http.Client{}
	for _, tt := range []struct {
		addr, path string
		want       int
	}{
		{apiAddr, "/api/v1/openapi.json", http.StatusOK},
		{apiAddr, "/api/v1/links/abc", http.StatusUnauthorized},
		{addr, "/api/v1/openapi.json", http.StatusNotFound},
	} {
		req := mustRequest(t, "http://"+tt.addr+tt.path)
		req.Host = "sho.rt"
		if status, _, body := fetch(t, client, req); status != tt.want {
			t.Errorf("GET %s on %s = %d %s, want %d", tt.path, tt.addr, status, body, tt.want)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run after SIGTERM = %v", err)
	}
}

// assertBlocklistFollowed checks that the API refuses targets on the blocklist file, and on a
// domain added to it while the redirector runs.
func assertBlocklistFollowed(t *testing.T, client *http.Client, addr, blocklist string) {
	t.Helper()
	create := func(target string) (int, string) {
		req, err := http.NewRequest("POST", "http://"+addr+"/api/v1/links", strings.NewReader(`{"target": "`+target+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "sho.rt"
		req.Header.Set("Authorization", "Bearer 0123456789abcdef")
		status, _, body := fetch(t, client, req)
		return status, body
	}
	if status, body := create("https://www.blocked.example/x"); status != http.StatusBadRequest || !strings.Contains(body, `"field":"target"`) {
		t.Fatalf("create on a blocked domain = %d %s, want 400 naming target", status, body)
	}
	if err := os.WriteFile(blocklist, []byte("blocked.example\nlater.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; ; n++ {
		status, body := create(fmt.Sprintf("https://later.example/%d", n))
		if status == http.StatusBadRequest && strings.Contains(body, `"field":"target"`) {
			return
		}
		if status != http.StatusCreated || time.Now().After(deadline) {
			t.Fatalf("create on a domain just blocked = %d %s, want 400 naming target after the file changed", status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
