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
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// TestManagerRunsAgainstRealDependencies starts the manager's own run function — flags from
// the environment, migrations, leader election, metrics — and watches a ShortLink and a
// blocklist change go through it.
func TestManagerRunsAgainstRealDependencies(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true, Postgres: true, Redis: true})
	t.Setenv("KUBECONFIG", env.Kube.Kubeconfig)
	metricsAddr, probeAddr := freeAddr(t), freeAddr(t)
	blocklist := filepath.Join(t.TempDir(), "blocklist")
	if err := os.WriteFile(blocklist, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"DATABASE_URL": env.Postgres.URL("postgres"), "REDIS_URL": env.Redis.URL(),
		"DEFAULT_DOMAIN": "sho.rt", "LEADER_ELECT": "true", "LEADER_ELECTION_NAMESPACE": "default",
		"METRICS_BIND_ADDRESS": metricsAddr, "HEALTH_PROBE_BIND_ADDRESS": probeAddr,
		"BLOCKLIST_FILE": blocklist, "BLOCKLIST_POLL_INTERVAL": "100ms",
		"VISITS_SYNC_INTERVAL": "200ms", "VISITS_ROLLUP_QPS": "2",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after cancel", err)
		}
	}()

	c := newClient(t, env)
	sl := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "smoke"},
		Spec: linksv1.ShortLinkSpec{Target: "https://will-be-blocked.example/"}}
	if err := c.Create(ctx, sl); err != nil {
		t.Fatal(err)
	}
	waitReason(t, c, sl, linksv1.ReasonSynced)
	waitVisits(t, c, sl, env.Postgres.URL("postgres"))
	if err := os.WriteFile(blocklist, []byte("will-be-blocked.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitReason(t, c, sl, linksv1.ReasonBlocked)

	waitFor(t, "metrics", func() error {
		body, err := httpGet("http://" + metricsAddr + "/metrics")
		for _, want := range []string{`shortlink_links{condition="blocked"} 1`, `shortlink_dependency_up{dependency="postgres"} 1`,
			`shortlink_dependency_up{dependency="redis"} 1`, `shortlink_manager_job_runs_total{job="visits-rollup",result="success"}`,
			"shortlink_visits_rollup_patches_total ", `shortlink_visits_rollup_pending_links 0`} {
			if err == nil && !strings.Contains(body, want) {
				err = fmt.Errorf("no %s", want)
			}
		}
		return err
	})
	if _, err := httpGet("http://" + probeAddr + "/readyz"); err != nil {
		t.Fatalf("readyz: %v", err)
	}
}

// waitVisits gives sl's row visits and waits for the manager's rollup, through its own client,
// to show them in status.visits.
func waitVisits(t *testing.T, c client.Client, sl *linksv1.ShortLink, dbURL string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(context.Background(), `INSERT INTO url_stats (domain, code, visits) VALUES ('', $1, 3)`, sl.Name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "status.visits from the rollup", func() error {
		var got linksv1.ShortLink
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(sl), &got); err != nil {
			return err
		}
		if got.Status.Visits != 3 {
			return fmt.Errorf("visits = %d, want 3", got.Status.Visits)
		}
		return nil
	})
}

func TestOptionsRefuseWhatCannotWork(t *testing.T) {
	cases := map[string]map[string]string{
		"no database":   {"REDIS_URL": "redis://x"},
		"no redis":      {"DATABASE_URL": "postgres://x"},
		"bad duration":  {"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x", "RESYNC_INTERVAL": "soon"},
		"zero interval": {"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x", "GC_INTERVAL": "0s"},
		"no rollup qps": {"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x", "VISITS_ROLLUP_QPS": "0"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, io.Discard)
			if err == nil {
				t.Fatal("run accepted the configuration")
			}
		})
	}
}

func newClient(t *testing.T, env *localenv.Env) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := linksv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Kube.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitReason(t *testing.T, c client.Client, sl *linksv1.ShortLink, reason string) {
	t.Helper()
	waitFor(t, "Ready reason "+reason, func() error {
		var got linksv1.ShortLink
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(sl), &got); err != nil {
			return err
		}
		if cond := meta.FindStatusCondition(got.Status.Conditions, linksv1.ConditionReady); cond == nil || cond.Reason != reason {
			return fmt.Errorf("conditions %+v", got.Status.Conditions)
		}
		return nil
	})
}

func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url) //nolint:gosec,noctx // a loopback test endpoint
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(body), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func TestHelpExitsCleanly(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "-database-url") {
		t.Fatalf("help does not list the flags:\n%s", out.String())
	}
}
