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
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// runAsManager, set in a child's environment, makes this test binary run main: the manager
// as its own process, as the kubelet runs it, without a separate build.
const runAsManager = "SHORTLINK_TEST_RUN_MANAGER"

func TestMain(m *testing.M) {
	if os.Getenv(runAsManager) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestProbesAnswerWhileMigratingAndWaiting runs the manager as a process while its migration
// cannot finish — first blocked behind a lock, as behind a long migration, then with
// PostgreSQL stopped — and checks that /healthz says alive and /readyz not ready all along,
// then ready once PostgreSQL is back and migrated, and that links are synced then.
func TestProbesAnswerWhileMigratingAndWaiting(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true, Postgres: true, Redis: true})
	ctx := context.Background()
	dbURL := env.Postgres.URL("postgres")
	if err := store.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	holdMigrationTable(t, dbURL)

	probeAddr := freeAddr(t)
	p, err := env.StartProcess("manager", os.Args[0], nil, []string{
		runAsManager + "=1", "KUBECONFIG=" + env.Kube.Kubeconfig,
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + env.Redis.URL(), "DEFAULT_DOMAIN=sho.rt",
		"METRICS_BIND_ADDRESS=0", "HEALTH_PROBE_BIND_ADDRESS=" + probeAddr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	probe := func(path string) (int, error) { return status("http://" + probeAddr + path) }

	waitFor(t, "the manager to wait inside its migration", func() error { return migrationWaiting(dbURL) })
	expectProbes(t, p, probe, "while the migration waits")

	start := localenv.StopForTest(t, env.Postgres)
	expectProbes(t, p, probe, "while PostgreSQL is down")
	start()

	waitFor(t, "/readyz once migrated", func() error {
		if code, err := probe("/readyz"); err != nil || code != http.StatusOK {
			return fmt.Errorf("readyz %d, %v; log:\n%s", code, err, p.LogTail())
		}
		return nil
	})
	c := newClient(t, env)
	sl := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "after-wait"},
		Spec: linksv1.ShortLinkSpec{Target: "https://example.com/"}}
	if err := c.Create(ctx, sl); err != nil {
		t.Fatal(err)
	}
	waitReason(t, c, sl, linksv1.ReasonSynced)
}

// expectProbes waits for /healthz to answer 200, then checks that /readyz refuses and that
// the process still runs.
func expectProbes(t *testing.T, p *localenv.Process, probe func(string) (int, error), when string) {
	t.Helper()
	waitFor(t, "/healthz "+when, func() error {
		if code, err := probe("/healthz"); err != nil || code != http.StatusOK {
			return fmt.Errorf("healthz %d, %v; log:\n%s", code, err, p.LogTail())
		}
		return nil
	})
	if code, err := probe("/readyz"); err != nil || code != http.StatusInternalServerError {
		t.Fatalf("readyz %s = %d, %v; want 500", when, code, err)
	}
	if p.Exited() {
		t.Fatalf("the manager exited %s; log:\n%s", when, p.LogTail())
	}
}

// holdMigrationTable locks schema_migrations until PostgreSQL stops: a manager that migrates
// then waits to read it, as it would behind a long migration of another replica.
func holdMigrationTable(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
}

// migrationWaiting is nil once another session waits for the lock on schema_migrations.
func migrationWaiting(dbURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks
		WHERE NOT granted AND relation = 'schema_migrations'::regclass`).Scan(&n)
	if err == nil && n == 0 {
		err = fmt.Errorf("no session waits for schema_migrations")
	}
	return err
}

func status(url string) (int, error) {
	resp, err := http.Get(url) //nolint:gosec,noctx // a loopback test endpoint
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
