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

// Package e2e tests the whole platform — kube-apiserver with kube-controller-manager,
// PostgreSQL, PgBouncer, Redis, the manager and the redirector as their own processes — the
// way `make dev` runs it. One platform serves every test; each test uses its own namespace.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/devenv"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// settle bounds every wait for the platform to converge; generous for a loaded 2-core machine.
const settle = 90 * time.Second

var (
	platform *devenv.Platform
	startErr error
	k8s      client.Client
	db       *pgxpool.Pool
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	binDir, err := os.MkdirTemp("", "shortlink-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(binDir) }()
	startErr = start(ctx, binDir)
	if platform != nil {
		defer func() { _ = platform.Stop() }()
	}
	if db != nil {
		defer db.Close()
	}
	return m.Run()
}

func start(ctx context.Context, binDir string) error {
	root, err := localenv.RepoRoot()
	if err != nil {
		return err
	}
	if err := devenv.Build(ctx, root, binDir); err != nil {
		return err
	}
	if platform, err = devenv.Start(ctx, devenv.Options{Root: root, BinDir: binDir, VisitsSyncInterval: "1s"}); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := linksv1.AddToScheme(scheme); err != nil {
		return err
	}
	if k8s, err = client.New(platform.Env.Kube.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	db, err = pgxpool.New(ctx, platform.DatabaseURL())
	return err
}

// stack returns the running platform, or ends the test as localenv does when a prerequisite
// is missing (skipped on a developer's machine, failed under CI=true).
func stack(t *testing.T) *devenv.Platform {
	t.Helper()
	if startErr != nil {
		localenv.Unavailable(t, startErr)
	}
	return platform
}

// namespace creates a namespace for one test.
func namespace(t *testing.T, name string) string {
	t.Helper()
	kubectl(t, "", "create", "namespace", name)
	return name
}

func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := platform.Kubectl(context.Background(), strings.NewReader(stdin), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apply declares a ShortLink with kubectl.
func apply(t *testing.T, ns, name, code, target string) {
	t.Helper()
	kubectl(t, fmt.Sprintf(`apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata:
  name: %s
  namespace: %s
spec:
  code: %s
  target: %s
`, name, ns, code, target), "apply", "-f", "-")
}

// patchTarget changes a ShortLink's target with kubectl.
func patchTarget(t *testing.T, ns, name, target string) {
	t.Helper()
	kubectl(t, "", "-n", ns, "patch", "shortlink", name, "--type=merge", "-p", fmt.Sprintf(`{"spec":{"target":%q}}`, target))
}

// waitFor polls until the redirector answers code with want (and Location, for a redirect).
// It sends HEAD, which the redirector does not count as a visit.
func waitFor(t *testing.T, code string, want int, location string) {
	t.Helper()
	var got int
	var loc string
	err := devenv.Poll(context.Background(), settle, "/"+code, func() (bool, error) {
		var err error
		got, loc, err = platform.Request(context.Background(), "HEAD", platform.DefaultDomain(), "/"+code)
		return err == nil && got == want && loc == location, nil
	})
	if err != nil {
		t.Fatalf("%v: last answer %d %q, want %d %q", err, got, loc, want, location)
	}
}

// shortLink reads a ShortLink from the API server.
func shortLink(t *testing.T, ns, name string) *linksv1.ShortLink {
	t.Helper()
	sl := &linksv1.ShortLink{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, sl); err != nil {
		t.Fatal(err)
	}
	return sl
}

// eventually polls check until it passes, failing the test with its last complaint.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	var last string
	err := devenv.Poll(context.Background(), settle, what, func() (bool, error) {
		last = check()
		return last == "", nil
	})
	if err != nil {
		t.Fatalf("%v: %s", err, last)
	}
}

// urlRow reads the deleted flag of a default-domain code's row; found is false without a row.
func urlRow(t *testing.T, code string) (deleted, found bool) {
	t.Helper()
	err := db.QueryRow(context.Background(), `SELECT deleted FROM urls WHERE domain = '' AND code = $1`, code).Scan(&deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return deleted, true
}

// storedVisits is url_stats' count for a default-domain code.
func storedVisits(t *testing.T, code string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(),
		`SELECT coalesce(sum(visits), 0) FROM url_stats WHERE domain = '' AND code = $1`, code).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// logsOnFailure prints the ends of the manager's and the redirector's logs when t fails.
func logsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() || platform == nil {
			return
		}
		for _, p := range []*localenv.Process{platform.Manager, platform.Redirector} {
			if p != nil {
				t.Logf("%s:\n%s", filepath.Base(p.LogPath()), p.LogTail())
			}
		}
	})
}
