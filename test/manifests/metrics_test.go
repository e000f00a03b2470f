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

package manifests

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// TestMonitoringUsesExportedMetrics runs the manager and the redirector (the binaries that went
// into the images) against kube-apiserver, PostgreSQL, PgBouncer and Redis, serves a redirect
// and a miss, and checks that every metric the alerts and the dashboard select is in their live
// /metrics.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	env := platform(t)
	dir := os.Getenv("IMAGES_DIR")
	if dir == "" {
		missing(t, "IMAGES_DIR is not set: run `make test-manifests`, which builds the binaries into it")
	}
	const db, domain = "metrics", "links.test"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.Postgres.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}

	manager := startBinary(t, filepath.Join(dir, "manager"), map[string]string{
		"KUBECONFIG":   env.Kube.Kubeconfig,
		"DATABASE_URL": env.Postgres.URL(db),
		"REDIS_URL":    env.Redis.URL(), "DEFAULT_DOMAIN": domain, "LEADER_ELECT": "false",
		"METRICS_BIND_ADDRESS": "127.0.0.1:0", "HEALTH_PROBE_BIND_ADDRESS": "127.0.0.1:0",
		"VISITS_SYNC_INTERVAL": "1s",
	}, "METRICS_BIND_ADDRESS", "HEALTH_PROBE_BIND_ADDRESS")
	waitOK(t, ctx, manager.addr["HEALTH_PROBE_BIND_ADDRESS"]+"/readyz", "", manager)
	declareLink(t, ctx, env, "docs")

	exported := map[string]bool{}
	redirectorBin := filepath.Join(dir, "redirector")
	redirector := startBinary(t, redirectorBin, map[string]string{
		"DATABASE_URL": env.PgBouncer.URL(db), "REDIS_URL": env.Redis.URL(), "DEFAULT_DOMAIN": domain,
		"LISTEN_ADDRESS": "127.0.0.1:0", "METRICS_ADDRESS": "127.0.0.1:0",
	}, "LISTEN_ADDRESS", "METRICS_ADDRESS")
	base := redirector.addr["LISTEN_ADDRESS"]
	waitOK(t, ctx, base+"/_/readyz", "", redirector)
	waitStatus(t, ctx, base+"/docs", domain, http.StatusFound, redirector)
	waitStatus(t, ctx, base+"/no-such-code", domain, http.StatusNotFound, redirector)
	time.Sleep(2 * time.Second) // a visits flush, an invalidation poll
	scrape(t, ctx, redirector.addr["METRICS_ADDRESS"]+"/metrics", exported)
	scrape(t, ctx, manager.addr["METRICS_BIND_ADDRESS"]+"/metrics", exported)

	used := usedMetrics(t)
	for _, name := range sortedKeys(used) {
		if !exportedName(exported, name) {
			t.Errorf("%s is selected by %s, but neither the manager nor the redirector exports it", name, strings.Join(used[name], ", "))
		}
	}
	if !t.Failed() {
		t.Logf("%d metric names used by the alerts and the dashboard, all exported", len(used))
	}
}

func exportedName(exported map[string]bool, name string) bool {
	if exported[name] {
		return true
	}
	for n := range exported {
		if prefix, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// scrape adds the sample names of a /metrics page: a histogram's _bucket, _sum and _count, a
// summary's _sum and _count, as Prometheus stores them.
func scrape(t *testing.T, ctx context.Context, url string, into map[string]bool) {
	t.Helper()
	body := get(t, ctx, url, "")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	for name, f := range families {
		into[name] = true
		switch f.GetType().String() {
		case "HISTOGRAM", "GAUGE_HISTOGRAM":
			into[name+"_bucket"], into[name+"_sum"], into[name+"_count"] = true, true, true
		case "SUMMARY":
			into[name+"_sum"], into[name+"_count"] = true, true
		}
	}
}

// declareLink creates a ShortLink and waits until the manager has synced it.
func declareLink(t *testing.T, ctx context.Context, env *localenv.Env, name string) {
	t.Helper()
	restrictedNamespace(t, env.Kube.Config, "metrics-links")
	dyn, err := dynamic.NewForConfig(env.Kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "links.shortlink.dev", Version: "v1alpha1", Resource: "shortlinks"}
	links := dyn.Resource(gvr).Namespace("metrics-links")
	link := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "links.shortlink.dev/v1alpha1", "kind": "ShortLink",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"target": "https://example.com/" + name},
	}}
	if _, err := links.Create(ctx, link, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ShortLink: %v", err)
	}
	for {
		got, err := links.Get(ctx, name, metav1.GetOptions{})
		if err == nil && readyTrue(got) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ShortLink %s never became Ready: %v", name, got)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readyTrue(o *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]any)
		if m["type"] == "Ready" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// binary is a running Shortlink binary and the loopback addresses it listens on.
type binary struct {
	name string
	log  string
	addr map[string]string // address variable -> http://127.0.0.1:port
}

// startBinary runs a binary with env, giving each variable in ports a free loopback port; it is
// stopped (SIGTERM, as the kubelet would) when the test ends.
func startBinary(t *testing.T, path string, env map[string]string, ports ...string) *binary {
	t.Helper()
	b := &binary{name: filepath.Base(path), log: filepath.Join(t.TempDir(), filepath.Base(path)+".log"), addr: map[string]string{}}
	for _, p := range ports {
		port := freePort(t)
		env[p] = fmt.Sprintf("127.0.0.1:%d", port)
		b.addr[p] = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	logFile, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path) //nolint:gosec // the binary under test
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", b.name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
	})
	return b
}

func (b *binary) logTail() string {
	data, _ := os.ReadFile(b.log) //nolint:gosec // the log this test writes
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// waitOK waits for 200 from url.
func waitOK(t *testing.T, ctx context.Context, url, host string, b *binary) {
	t.Helper()
	waitStatus(t, ctx, url, host, http.StatusOK, b)
}

// waitStatus polls url (with a Host header) until it answers status.
func waitStatus(t *testing.T, ctx context.Context, url, host string, status int, b *binary) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	last := ""
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never answered %d (last: %s); %s log:\n%s", url, status, last, b.name, b.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func get(t *testing.T, ctx context.Context, url, host string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(body)
}
