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
	keys, codeKey := filepath.Join(dir, "keys"), filepath.Join(dir, "code-key")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(codeKey, []byte("a-secret-of-enough-bytes\n"), 0o600); err != nil {
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
	if status != http.StatusCreated || len(code) != 7 || !strings.Contains(body, `"shortURL":"https://sho.rt/`+code+`"`) {
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
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run after SIGTERM = %v", err)
	}
}
