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

package redirect_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// A domain added to the blocklist file stops every link to it on every replica — made through
// the API or declared, at the domain or under it — and removing it brings them back. Links
// elsewhere keep redirecting throughout.
func TestBlocklistReachesEveryLinkAtServeTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	file := filepath.Join(t.TempDir(), "blocklist")
	writeFile(t, file, "# nothing blocked yet\n")
	replicas := make([]http.Handler, 0, 2)
	for range 2 {
		policy, err := links.NewPolicyFile([]string{testHost, otherHost}, file)
		if err != nil {
			t.Fatal(err)
		}
		r := f.policyResolver(policy)
		replicas = append(replicas, f.server(r, redirect.Config{}))
	}
	f.createAPILink("apiblocked", "https://evil.example/api")
	f.upsert(link("declblocked", "https://www.evil.example/declared"))
	f.createAPILink("fine", "https://good.example/")
	open := map[string]string{
		"apiblocked": "https://evil.example/api", "declblocked": "https://www.evil.example/declared",
		"fine": "https://good.example/",
	}
	for _, h := range replicas {
		if !serves(h, open) {
			t.Fatal("links not served before the blocklist changed")
		}
	}

	writeFile(t, file, "evil.example\n")
	blocked := map[string]string{"apiblocked": "Not Found", "declblocked": "Not Found", "fine": "https://good.example/"}
	for _, h := range replicas {
		eventually(t, "every replica to stop the blocked links", func() bool { return serves(h, blocked) })
	}
	writeFile(t, file, "")
	for _, h := range replicas {
		eventually(t, "every replica to serve them again", func() bool { return serves(h, open) })
	}
}

// policyResolver is a replica whose blocklist is policy's file, re-read every 50ms.
func (f *fixture) policyResolver(policy *links.PolicyFile) *redirect.Resolver {
	f.t.Helper()
	r := redirect.NewResolver(redirect.ResolverDeps{
		Store: f.reader, Cache: f.cache, Metrics: f.metrics, Logger: f.log(), Policy: policy.Policy,
		Options: redirect.Options{PollInterval: 50 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { r.Run(ctx, nil); done <- struct{}{} }()
	go func() {
		policy.Watch(ctx, 50*time.Millisecond, r.PolicyChanged, func(err error) { f.t.Errorf("reload blocklist: %v", err) })
		done <- struct{}{}
	}()
	f.t.Cleanup(func() { cancel(); <-done; <-done; r.Close() })
	return r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
