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

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/api"
)

// TestKeyScopes: a key narrowed to some operations or domains answers 403 outside them, with
// the same JSON errors as every refusal, and writes nothing.
func TestKeyScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustCreate(`{"target": "https://example.com/a", "code": "a"}`)
	tests := []struct {
		name, method, path, body, key string
		want                          int
		field                         string
	}{
		{"reader reads", "GET", "/api/v1/links/a", "", readerKey, 200, ""},
		{"reader lists", "GET", "/api/v1/links", "", readerKey, 200, ""},
		{"reader reads visits", "GET", "/api/v1/links/a/visits", "", readerKey, 200, ""},
		{"reader creates", "POST", "/api/v1/links", `{"target": "https://example.com/r"}`, readerKey, 403, ""},
		{"reader batches", "POST", "/api/v1/links:batch", `{"links": [{"target": "https://example.com/r"}]}`, readerKey, 403, ""},
		{"reader patches", "PATCH", "/api/v1/links/a", `{"suspend": true}`, readerKey, 403, ""},
		{"reader deletes", "DELETE", "/api/v1/links/a", "", readerKey, 403, ""},
		{"go key on the default domain", "POST", "/api/v1/links", `{"target": "https://example.com/g", "code": "g"}`, goKey, 403, "domain"},
		{"go key names the default domain", "GET", "/api/v1/links/a?domain=sho.rt", "", goKey, 403, "domain"},
		{"go key reads the default domain", "GET", "/api/v1/links/a", "", goKey, 403, "domain"},
		{"go key lists the default domain", "GET", "/api/v1/links", "", goKey, 403, "domain"},
		{"go key on its domain", "POST", "/api/v1/links", `{"target": "https://example.com/g", "code": "g", "domain": "go.example.com"}`, goKey, 201, ""},
		{"go key on an unserved domain", "POST", "/api/v1/links", `{"target": "https://example.com/g", "domain": "evil.example"}`, goKey, 400, "domain"},
		{"go key reads its domain", "GET", "/api/v1/links/g?domain=go.example.com", "", goKey, 200, ""},
	}
	for _, tt := range tests {
		rec := f.call(tt.method, tt.path, tt.body, tt.key)
		var e api.ErrorResponse
		if rec.Code != tt.want || (tt.want >= 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" || e.Field != tt.field)) {
			t.Errorf("%s: %s %s = %d %s, want %d naming %q", tt.name, tt.method, tt.path, rec.Code, rec.Body, tt.want, tt.field)
		}
	}
	// In a batch, a link on a domain the key may not use is refused alone.
	rec := f.call("POST", "/api/v1/links:batch", `{"links": [{"target": "https://example.com/1", "domain": "go.example.com"},
		{"target": "https://example.com/2"}]}`, goKey)
	var got api.BatchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Created != 1 ||
		got.Results[0].Status != 201 || got.Results[1].Status != 403 || got.Results[1].Error.Field != "domain" {
		t.Fatalf("batch across domains = %d %s", rec.Code, rec.Body)
	}
	if n := f.count("SELECT count(*) FROM urls"); n != 3 {
		t.Fatalf("urls holds %d rows, want 3 (a, g, one of the batch)", n)
	}
	if got := f.requests("create", "forbidden"); got != 2 {
		t.Fatalf("create/forbidden requests = %v, want 2", got)
	}
}

// TestKeysFileReload: a changed keys file is taken without a restart; one that does not parse
// or cannot be read fails closed — no key is valid, an error is logged and counted — until a
// good file is back.
func TestKeysFileReload(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys")
	write := func(content string) {
		// Written aside and renamed in, as a Secret volume swaps its files.
		if err := os.WriteFile(path+".new", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	const oldKey, newKey = "old-key-0123456789", "new-key-0123456789"
	write("old:" + oldKey + "\n")
	keys, err := api.LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWithKeys(t, keys)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		keys.Watch(ctx, path, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })

	status := func(key string) int { return f.call("GET", "/api/v1/links/nothing", "", key).Code }
	if status(oldKey) != http.StatusNotFound || status(newKey) != http.StatusUnauthorized {
		t.Fatal("before the reload, want the old key in and the new one out")
	}
	if got := f.gauge("shortlink_api_keys"); got != 1 {
		t.Fatalf("shortlink_api_keys = %v, want 1", got)
	}
	write("new:" + newKey + "\n")
	eventually(t, "the new key to be accepted", func() bool { return status(newKey) == http.StatusNotFound })
	if got := status(oldKey); got != http.StatusUnauthorized {
		t.Fatalf("old key after the reload = %d, want 401", got)
	}
	write("broken line\n" + "new:" + newKey + "\n")
	eventually(t, "a file that does not parse to refuse every key", func() bool { return status(newKey) == http.StatusUnauthorized })
	write("old:" + oldKey + " ops=read\n")
	eventually(t, "the old key to be accepted again", func() bool { return status(oldKey) == http.StatusNotFound })

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a missing file to refuse every key", func() bool { return status(oldKey) == http.StatusUnauthorized })
	if got := f.gauge("shortlink_api_keys"); got != 0 {
		t.Fatalf("shortlink_api_keys with the file missing = %v, want 0", got)
	}
	if got := f.counter("shortlink_api_keys_file_errors_total"); got != 2 {
		t.Fatalf("shortlink_api_keys_file_errors_total = %v, want 2 (one unparsable file, one missing)", got)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "Cannot read the API keys file") {
		t.Fatalf("no error logged for the missing file:\n%s", out)
	}
	write("old:" + oldKey + " ops=read\n") // the content it had before it went
	eventually(t, "the keys back with the file", func() bool { return status(oldKey) == http.StatusNotFound })
	if got := f.gauge("shortlink_api_keys"); got != 1 {
		t.Fatalf("shortlink_api_keys with the file back = %v, want 1", got)
	}
}

// TestDuplicateKeyLines: the same key on two lines is an error, whichever way it is written,
// rather than the second line's grant silently replacing the first's.
func TestDuplicateKeyLines(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte(aliceKey))
	for _, file := range []string{
		"a:" + aliceKey + " ops=read\na:" + aliceKey + "\n",
		"a:" + aliceKey + "\nb:" + aliceKey + " scope=admin\n",
		"a:" + aliceKey + "\n# hashed\nb:sha256:" + hex.EncodeToString(sum[:]) + "\n",
	} {
		_, err := api.LoadKeys(strings.NewReader(file))
		if err == nil || !strings.Contains(err.Error(), "same key as line 1") {
			t.Errorf("LoadKeys(%q) = %v; want an error naming the first line", file, err)
		}
	}
	// One name on two lines is how a key is rotated: both keys are valid, and own its links.
	if k, err := api.LoadKeys(strings.NewReader("a:" + aliceKey + "\na:" + aliceNewKey + "\n")); err != nil || k.Len() != 2 {
		t.Fatalf("two keys of one name = %v, %v; want 2 keys", k, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger writing while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
