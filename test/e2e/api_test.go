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

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCreateThroughAPI does what bin/dev/env's "try this" block says: it creates a link with
// API_URL and API_KEY as the env file has them, and follows the code through the redirector.
func TestCreateThroughAPI(t *testing.T) {
	p := stack(t)
	logsOnFailure(t)
	env := map[string]string{}
	for _, kv := range p.EnvVars() {
		env[kv[0]] = kv[1]
	}
	if env["API_URL"] == "" || env["API_KEY"] == "" {
		t.Fatalf("the env file has no API_URL or API_KEY: %v", env)
	}
	target := "https://example.com/made-through-the-api"

	status, body := createLink(t, env["API_URL"], env["API_KEY"], `{"target":"`+target+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var link struct {
		Code     string `json:"code"`
		ShortURL string `json:"shortURL"`
		Source   string `json:"source"`
	}
	if err := json.Unmarshal(body, &link); err != nil || link.Code == "" {
		t.Fatalf("create answered %s (%v)", body, err)
	}
	// The short URL answered is this redirector's own, as in a ShortLink's status.
	if link.ShortURL != env["REDIRECTOR_URL"]+"/"+link.Code || link.Source != "api" {
		t.Errorf("create answered shortURL %q, source %q for code %q", link.ShortURL, link.Source, link.Code)
	}
	// The redirector learns of the code from the change feed (or its first lookup).
	waitFor(t, link.Code, http.StatusFound, target)
	if _, found := urlRow(t, link.Code); !found {
		t.Errorf("no urls row for code %q", link.Code)
	}

	if status, body := createLink(t, env["API_URL"], "not-"+env["API_KEY"], `{"target":"`+target+`"}`); status != http.StatusUnauthorized {
		t.Errorf("create with a wrong key: %d %s, want 401", status, body)
	}
}

// createLink posts a create request with a bearer key and returns the answer.
func createLink(t *testing.T, apiURL, key, body string) (int, []byte) {
	t.Helper()
	return callAPI(t, http.MethodPost, apiURL+"/links", key, body)
}

// callAPI sends a request to the create API with a bearer key (and a JSON body unless it is
// empty) and returns the answer.
func callAPI(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}
