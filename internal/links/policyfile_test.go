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

package links_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func isBlocked(p *links.PolicyFile, target string) bool {
	return errors.Is(p.Policy().Check(target), links.ErrBlocked)
}

func TestPolicyFileReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "blocklist")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// No file yet: only our own domain is refused.
	p, err := links.NewPolicyFile([]string{"sho.rt"}, file)
	if err != nil {
		t.Fatal(err)
	}
	if !isBlocked(p, "https://sho.rt/x") || isBlocked(p, "https://evil.example/") {
		t.Fatal("without a file: want only the served domain refused")
	}

	write("evil.example\n")
	if changed, err := p.Reload(); err != nil || !changed {
		t.Fatalf("Reload after a change = %v, %v; want true, nil", changed, err)
	}
	if !isBlocked(p, "https://www.evil.example/") {
		t.Fatal("a subdomain of a newly blocked domain is allowed")
	}
	if changed, err := p.Reload(); err != nil || changed {
		t.Fatalf("Reload without a change = %v, %v; want false, nil", changed, err)
	}

	write("evil.example\nnot a domain\n")
	if _, err := p.Reload(); err == nil {
		t.Fatal("a bad line loaded")
	}
	if !isBlocked(p, "https://evil.example/") {
		t.Fatal("a bad edit dropped the previous blocklist")
	}

	if _, err := links.NewPolicyFile([]string{"sho.rt"}, file); err == nil {
		t.Fatal("NewPolicyFile accepted a bad file")
	}
}

func TestPolicyFileWatch(t *testing.T) {
	file := filepath.Join(t.TempDir(), "blocklist")
	if err := os.WriteFile(file, []byte("# empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := links.NewPolicyFile([]string{"sho.rt"}, file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	changed, failed := make(chan struct{}, 10), make(chan error, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Watch(ctx, 10*time.Millisecond, func() { changed <- struct{}{} }, func(err error) { failed <- err })
	}()

	if err := os.WriteFile(file, []byte("evil.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case err := <-failed:
		t.Fatal(err)
	case <-time.After(time.Minute):
		t.Fatal("the change was not picked up")
	}
	if !isBlocked(p, "https://evil.example/") {
		t.Fatal("changed was called before the new policy was in place")
	}
	if err := os.WriteFile(file, []byte("bad domain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !strings.Contains(err.Error(), "line 1") {
			t.Fatalf("the failure %q does not name the bad line", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a bad file was not reported")
	}
	cancel()
	<-done
}
