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
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestManagerRestartLosesNothing stops the manager, changes the declared state while it is
// down, and checks that links keep redirecting and the change is applied after the restart.
func TestManagerRestartLosesNothing(t *testing.T) {
	p := stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-restart")
	apply(t, ns, "steady", "e2e-steady", "https://example.com/steady")
	waitFor(t, "e2e-steady", http.StatusFound, "https://example.com/steady")

	if err := p.StopManager(); err != nil {
		t.Fatal(err)
	}
	patchTarget(t, ns, "steady", "https://example.com/steady-v2")
	apply(t, ns, "late", "e2e-late", "https://example.com/late")
	waitFor(t, "e2e-steady", http.StatusFound, "https://example.com/steady")

	if err := p.StartManager(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "e2e-steady", http.StatusFound, "https://example.com/steady-v2")
	waitFor(t, "e2e-late", http.StatusFound, "https://example.com/late")
}

// TestRedisDownKeepsRedirects stops Redis: known links keep redirecting, and a link declared
// meanwhile reaches the redirector through PostgreSQL.
func TestRedisDownKeepsRedirects(t *testing.T) {
	p := stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-redis")
	apply(t, ns, "known", "e2e-known", "https://example.com/known")
	waitFor(t, "e2e-known", http.StatusFound, "https://example.com/known")

	if err := p.Env.Redis.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Env.Redis.Start(context.Background()); err != nil {
			t.Errorf("restart Redis: %v", err)
		}
	})
	waitFor(t, "e2e-known", http.StatusFound, "https://example.com/known")
	apply(t, ns, "fresh", "e2e-fresh", "https://example.com/fresh")
	waitFor(t, "e2e-fresh", http.StatusFound, "https://example.com/fresh")
}

// TestRedirectorStopUnderTrafficLosesNoVisit sends SIGTERM to the redirector while clients
// are sending, then checks that url_stats holds exactly the redirects the clients received.
func TestRedirectorStopUnderTrafficLosesNoVisit(t *testing.T) {
	p := stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-sigterm")
	apply(t, ns, "busy", "e2e-busy", "https://example.com/busy")
	waitFor(t, "e2e-busy", http.StatusFound, "https://example.com/busy")

	var redirects atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				status, _, err := p.Request(context.Background(), http.MethodGet, p.DefaultDomain(), "/e2e-busy")
				if err != nil {
					return // the redirector has stopped listening
				}
				if status == http.StatusFound {
					redirects.Add(1)
				}
			}
		})
	}
	for redirects.Load() < 500 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Redirector.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.Redirector.Wait(); code != 0 {
		t.Errorf("redirector exited with %d after SIGTERM", code)
	}
	wg.Wait()
	if err := p.StartRedirector(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := storedVisits(t, "e2e-busy"), redirects.Load(); got != want {
		t.Fatalf("url_stats holds %d visits; clients received %d redirects", got, want)
	}
}
