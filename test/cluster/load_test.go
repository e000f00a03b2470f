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

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shortlink-dev/shortlink/internal/localcluster"
	"github.com/shortlink-dev/shortlink/internal/localnode"
)

const loadNamespace = "shortlink-load"

// loadCodes are config/samples' codes; the load asks for them in turn.
var loadCodes = []string{"docs", "summer", "home"}

// scenarios is the chart under load on the node, shared by the scenarios of issue 16.
type scenarios struct {
	t          *testing.T
	n          *localnode.Node
	p          *localcluster.Platform
	root, helm string
	addr       string // the redirector Service's ClusterIP:port
	db         *pgx.Conn
	stoppedAt  time.Time // when the last scenario's load stopped
}

// TestUnderLoad is issue 16: with load running against the redirector Service, the HPA scales
// out and back, a rolling update, a manager failover, PgBouncer's and Redis's failures lose no
// request and no visit, and a hard kill loses at most what that pod had not yet flushed.
// "Exact" is visits counted in PostgreSQL equal to the 3xx answers the generator received.
func TestUnderLoad(t *testing.T) {
	n := node(t)
	helm, images := platformTools(t)
	ctx := context.Background()
	s := &scenarios{t: t, n: n, root: repoRoot(t), helm: helm}
	p, err := localcluster.InstallChart(ctx, n, localcluster.Options{
		Root: s.root, Helm: helm, Images: images, Namespace: loadNamespace,
		Args: []string{"--set", "manager.replicas=2"},
	})
	if err != nil {
		dumpNamespace(t, n, loadNamespace)
		t.Fatal(err)
	}
	s.p = p
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { s.remove() })
	redirector, err := p.RedirectorURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = strings.TrimPrefix(redirector, "http://")
	if s.db, err = pgx.Connect(ctx, p.Backends.DatabaseURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.db.Close(context.Background()) })
	kubectl(t, n, "create", "namespace", linksNamespace)
	kubectl(t, n, "apply", "-n", linksNamespace, "-k", filepath.Join(s.root, "config/samples"))
	expectSamplesServed(t, n, redirector)

	t.Run("HPA scale-out and back", s.scaleOutAndBack)
	t.Run("rolling update", s.rollingUpdate)
	t.Run("manager failover", s.managerFailover)
	t.Run("PgBouncer pod deleted", s.pgbouncerDeleted)
	t.Run("Redis stopped for 10 s", s.redisStopped)
	t.Run("redirector killed hard", s.hardKill)
}

// run runs action under load and checks that no request failed and the visits are exact.
func (s *scenarios) run(t *testing.T, workers int, action func(l *load)) {
	t.Helper()
	before := s.settledVisits(t)
	started := time.Now()
	l := startLoad(s.addr, nodeDomain, loadCodes, workers, 20*time.Millisecond)
	action(l)
	l.Stop()
	s.stoppedAt = time.Now()
	t.Logf("%s in %s", l.result(), time.Since(started).Round(time.Second))
	if l.failures.Load() > 0 {
		t.Errorf("requests failed: %s", l.result())
	}
	s.expectVisits(t, before+l.redirects.Load())
}

// visits is every visit PostgreSQL has counted.
func (s *scenarios) visits(t *testing.T) int64 {
	t.Helper()
	var v int64
	if err := s.db.QueryRow(context.Background(), "SELECT coalesce(sum(visits), 0)::bigint FROM url_stats").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// settledVisits waits until no redirector holds a visit unflushed and the count stands still,
// then returns it: the baseline a scenario's redirects are added to.
func (s *scenarios) settledVisits(t *testing.T) int64 {
	t.Helper()
	last := int64(-1)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		pending := 0.0
		for _, p := range s.redirectors(t) {
			pending += s.metric(t, p.Status.PodIP, "shortlink_stats_pending_visits")
		}
		v := s.visits(t)
		if pending == 0 && v == last {
			return v
		}
		last = v
	}
	t.Fatal("the visit count did not settle within a minute")
	return 0
}

// expectVisits waits for the flushes to land, then wants exactly want.
func (s *scenarios) expectVisits(t *testing.T, want int64) {
	t.Helper()
	var got int64
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if got = s.visits(t); got == want {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Errorf("PostgreSQL counted %d visits, the generator received %d redirects", got, want)
}

func (s *scenarios) scaleOutAndBack(t *testing.T) {
	cs := clientset(t, s.n)
	ctx := context.Background()
	replicas := func() int32 {
		d, err := cs.AppsV1().Deployments(loadNamespace).Get(ctx, "shortlink-redirector", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Status.ReadyReplicas
	}
	minimum := replicas()
	var servedBy map[string]float64
	s.run(t, 16, func(*load) {
		loadStart := time.Now()
		eventually(t, 4*time.Minute, func() error {
			if r := replicas(); r < minimum+2 {
				return fmt.Errorf("%d redirectors ready, want at least %d", r, minimum+2)
			}
			return nil
		})
		t.Logf("load start to %d redirectors Ready: %s", replicas(), time.Since(loadStart).Round(time.Second))
		// Every replica, the new ones included, serves a share of the new connections.
		time.Sleep(5 * time.Second)
		servedBy = s.requestsPerPod(t)
	})
	for pod, n := range servedBy {
		if n == 0 {
			t.Errorf("redirector %s served no request", pod)
		}
	}
	t.Logf("requests per redirector: %v", servedBy)
	eventually(t, 4*time.Minute, func() error {
		if r := replicas(); r > minimum {
			return fmt.Errorf("%d redirectors after the load, want %d", r, minimum)
		}
		return nil
	})
	t.Logf("back to %d redirectors %s after the load stopped", minimum, time.Since(s.stoppedAt).Round(time.Second))
}

// requestsPerPod scrapes each redirector's shortlink_redirect_requests_total{result="redirect"}.
func (s *scenarios) requestsPerPod(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range s.redirectors(t) {
		out[p.Name] = s.metric(t, p.Status.PodIP, `shortlink_redirect_requests_total{result="redirect"}`)
	}
	return out
}

func (s *scenarios) redirectors(t *testing.T) []corev1.Pod {
	t.Helper()
	pods, err := clientset(t, s.n).CoreV1().Pods(loadNamespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=redirector"})
	if err != nil {
		t.Fatal(err)
	}
	var ready []corev1.Pod
	for _, p := range pods.Items {
		if localcluster.PodReady(&p) {
			ready = append(ready, p)
		}
	}
	return ready
}

// metric reads one sample from a redirector's /metrics (port 9090).
func (s *scenarios) metric(t *testing.T, podIP, sample string) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + podIP + ":9090/metrics") //nolint:noctx // a bounded scrape in a test
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

func (s *scenarios) rollingUpdate(t *testing.T) {
	s.run(t, 8, func(*load) {
		time.Sleep(3 * time.Second)
		kubectl(t, s.n, "-n", loadNamespace, "rollout", "restart", "deployment/shortlink-redirector")
		kubectl(t, s.n, "-n", loadNamespace, "rollout", "status", "deployment/shortlink-redirector", "--timeout=4m")
		// The old pods are out of the Service now but still draining: keep the load on until
		// they are gone, so their final flush happens under it.
		eventually(t, 2*time.Minute, func() error {
			pods, err := clientset(t, s.n).CoreV1().Pods(loadNamespace).List(context.Background(),
				metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=redirector"})
			if err != nil {
				return err
			}
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil {
					return fmt.Errorf("pod %s still terminating", p.Name)
				}
			}
			return nil
		})
	})
}

func (s *scenarios) managerFailover(t *testing.T) {
	cs := clientset(t, s.n)
	ctx := context.Background()
	holder := func() string {
		lease, err := cs.CoordinationV1().Leases(loadNamespace).Get(ctx, "shortlink-manager.links.shortlink.dev", metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}
	expectManagerLeads(t, s.n, loadNamespace)
	leader := strings.SplitN(holder(), "_", 2)[0]
	deleted := time.Now()
	kubectl(t, s.n, "-n", loadNamespace, "delete", "pod", leader, "--wait=false")
	eventually(t, 2*time.Minute, func() error {
		if h := holder(); h == "" || strings.HasPrefix(h, leader) {
			return fmt.Errorf("lease still held by %q", h)
		}
		return nil
	})
	t.Logf("lease taken over by %s %s after the leader's pod was deleted", holder(), time.Since(deleted).Round(100*time.Millisecond))
	s.applyLink(t, "after-failover")
	// A rolling update of the manager with links applied during it.
	kubectl(t, s.n, "-n", loadNamespace, "rollout", "restart", "deployment/shortlink-manager")
	for i := range 5 {
		s.applyLink(t, fmt.Sprintf("during-rollout-%d", i))
		time.Sleep(2 * time.Second)
	}
	kubectl(t, s.n, "-n", loadNamespace, "rollout", "status", "deployment/shortlink-manager", "--timeout=4m")
	for _, code := range []string{"after-failover", "during-rollout-0", "during-rollout-1", "during-rollout-2", "during-rollout-3", "during-rollout-4"} {
		s.expectRedirect(t, code)
	}
}

// applyLink declares a ShortLink whose code is its name.
func (s *scenarios) applyLink(t *testing.T, name string) {
	t.Helper()
	kubectlIn(t, s.n, fmt.Sprintf(`apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata: {name: %s, namespace: %s}
spec: {target: "https://example.com/%s"}
`, name, linksNamespace, name), "apply", "-f", "-")
}

// expectRedirect waits for the ShortLink to be Ready and its code to redirect.
func (s *scenarios) expectRedirect(t *testing.T, code string) {
	t.Helper()
	kubectl(t, s.n, "-n", linksNamespace, "wait", "shortlink/"+code, "--for=condition=Ready", "--timeout=2m")
	eventually(t, time.Minute, func() error {
		return expectRedirectAnswer("http://"+s.addr, "/"+code, http.StatusFound, "https://example.com/"+code)
	})
}

func (s *scenarios) pgbouncerDeleted(t *testing.T) {
	s.run(t, 8, func(*load) {
		time.Sleep(3 * time.Second)
		kubectl(t, s.n, "-n", loadNamespace, "delete", "pod", "-l", "app.kubernetes.io/component=pgbouncer", "--wait=false")
		time.Sleep(2 * time.Second)
		if err := localcluster.WaitReady(context.Background(), clientset(t, s.n), loadNamespace, 3*time.Minute); err != nil {
			t.Error(err)
		}
		time.Sleep(3 * time.Second)
	})
}

func (s *scenarios) redisStopped(t *testing.T) {
	redis := s.p.Backends.Env.Redis
	s.run(t, 8, func(*load) {
		time.Sleep(3 * time.Second)
		if err := redis.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if err := redis.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
	})
}

// hardKill kills one redirector's container with SIGKILL through containerd while load runs.
// The visits lost (3xx received minus visits counted) must be at most what that pod held
// unflushed when it was scraped just before the kill, plus every redirect any pod answered
// between that scrape and the kill (a bound, since the generator cannot tell which pod answered).
func (s *scenarios) hardKill(t *testing.T) {
	before := s.settledVisits(t)
	l := startLoad(s.addr, nodeDomain, loadCodes, 8, 20*time.Millisecond)
	time.Sleep(5 * time.Second)
	victim := s.redirectors(t)[0]
	if len(victim.Status.ContainerStatuses) == 0 {
		t.Fatal("no container status for", victim.Name)
	}
	seenAtScrape := l.redirects.Load()
	pending := s.metric(t, victim.Status.PodIP, "shortlink_stats_pending_visits")
	answered := s.metric(t, victim.Status.PodIP, `shortlink_redirect_requests_total{result="redirect"}`)
	if err := s.n.KillContainer(victim.Status.ContainerStatuses[0].ContainerID); err != nil {
		t.Fatal(err)
	}
	slack := l.redirects.Load() - seenAtScrape
	time.Sleep(10 * time.Second)
	l.Stop()
	// Every visit that is going to be counted is flushed by now; then the loss is settled.
	time.Sleep(5 * time.Second)
	lost := before + l.redirects.Load() - s.visits(t)
	bound := int64(pending) + slack
	t.Logf("hard kill of %s (%.0f redirects answered): %s; lost %d visits, bound %d (%.0f unflushed at the scrape + %d answered before the kill)",
		victim.Name, answered, l.result(), lost, bound, pending, slack)
	if lost < 0 || lost > bound {
		t.Errorf("lost %d visits, want between 0 and %d", lost, bound)
	}
	if err := localcluster.WaitReady(context.Background(), clientset(t, s.n), loadNamespace, 3*time.Minute); err != nil {
		t.Error(err)
	}
}

// remove deletes the links while a manager runs, then the chart, its namespace and the CRD.
func (s *scenarios) remove() {
	deleteLinks(s.t, s.n)
	_, _, _ = localcluster.Command(context.Background(), s.n, s.root, s.helm, "uninstall", localcluster.Release, "-n", loadNamespace, "--wait")
	_, _ = kubectlErr(s.n, "", "delete", "namespace", loadNamespace, "--wait=false")
	deleteCRDs(s.n)
}
