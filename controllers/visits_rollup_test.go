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

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// countedLinks creates n Ready ShortLinks in ns and gives link i visits(i) in url_stats.
func countedLinks(t *testing.T, ns string, n int, visits func(i int) int64) []*linksv1.ShortLink {
	t.Helper()
	sls := make([]*linksv1.ShortLink, n)
	for i := range sls {
		sls[i] = create(t, shortLink(ns, fmt.Sprintf("l%d", i),
			linksv1.ShortLinkSpec{Target: "https://example.com/", Code: fmt.Sprintf("%s-l%d", ns, i)}))
	}
	for i, sl := range sls {
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
		setVisits(t, sl, visits(i))
	}
	return sls
}

func setVisits(t *testing.T, sl *linksv1.ShortLink, visits int64) {
	t.Helper()
	mustExec(t, `INSERT INTO url_stats (domain, code, visits) VALUES ('', $1, $2)
		ON CONFLICT (domain, code) DO UPDATE SET visits = EXCLUDED.visits`, sl.Spec.Code, visits)
}

// rollupIn is a rollup of the ShortLinks of ns alone, so other tests' links take none of its budget.
func rollupIn(ns string, maxPatches int) *VisitsRollup {
	return &VisitsRollup{
		Client: client.NewNamespacedClient(k8s, ns), Totals: db, Installation: testInstallation(),
		MaxPatches: maxPatches, Metrics: NewRollupMetrics(prometheus.NewRegistry()),
	}
}

func runPass(t *testing.T, r *VisitsRollup) {
	t.Helper()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// written lists which links' status.visits show their counts.
func written(t *testing.T, sls []*linksv1.ShortLink, visits func(i int) int64) []bool {
	t.Helper()
	done := make([]bool, len(sls))
	for i, sl := range sls {
		done[i] = get(t, sl).Status.Visits == visits(i)
	}
	return done
}

// A pass writes at most its budget, the links that moved most first, and every link is
// written within a few passes.
func TestVisitsRollupWritesTheMostMovedFirstWithinItsBudget(t *testing.T) {
	ns := newNamespace(t)
	visits := func(i int) int64 { return int64(i+1) * 10 }
	sls := countedLinks(t, ns, 9, visits)
	r := rollupIn(ns, 4)

	for pass, want := range [][]bool{
		{false, false, false, false, false, true, true, true, true},
		{false, true, true, true, true, true, true, true, true},
		{true, true, true, true, true, true, true, true, true},
	} {
		runPass(t, r)
		if got := written(t, sls, visits); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after pass %d written = %v, want %v (most visits last)", pass+1, got, want)
		}
	}
	if p, left := testutil.ToFloat64(r.Metrics.Patches), testutil.ToFloat64(r.Metrics.Pending); p != 9 || left != 0 {
		t.Fatalf("patches = %v, pending = %v; want 9, 0", p, left)
	}
	runPass(t, r)
	if p := testutil.ToFloat64(r.Metrics.Patches); p != 9 {
		t.Fatalf("patches = %v after a pass with nothing new, want 9", p)
	}
}

// The pending gauge says how many links a pass left for the next.
func TestVisitsRollupCountsWhatItLeaves(t *testing.T) {
	ns := newNamespace(t)
	countedLinks(t, ns, 3, func(int) int64 { return 7 })
	r := rollupIn(ns, 1)
	runPass(t, r)
	if p, left := testutil.ToFloat64(r.Metrics.Patches), testutil.ToFloat64(r.Metrics.Pending); p != 1 || left != 2 {
		t.Fatalf("patches = %v, pending = %v; want 1, 2", p, left)
	}
}

// A link that moved little is written even while a busier one keeps moving more every pass:
// waiting raises its priority.
func TestVisitsRollupNeverStarvesALinkThatMovedLittle(t *testing.T) {
	ns := newNamespace(t)
	sls := countedLinks(t, ns, 2, func(i int) int64 { return []int64{1, 100}[i] })
	quiet, busy := sls[0], sls[1]
	r := rollupIn(ns, 1)
	runPass(t, r)
	if got := get(t, busy).Status.Visits; got != 100 {
		t.Fatalf("busy visits = %d after the first pass, want 100: the most moved goes first", got)
	}
	for pass := 2; get(t, quiet).Status.Visits != 1; pass++ {
		if pass > 20 {
			t.Fatal("the quiet link was not written in 20 passes while the busy one kept moving")
		}
		setVisits(t, busy, int64(pass)*100)
		runPass(t, r)
	}
}

// Newly applied ShortLinks become Ready while a rollup pass works through a backlog at its own,
// low rate: its writes go through a rate limiter of its own, not the reconciler's.
func TestReconcilesBecomeReadyWhileARollupBacklogRuns(t *testing.T) {
	ns := newNamespace(t)
	const backlog = 40
	countedLinks(t, ns, backlog, func(i int) int64 { return int64(i + 1) })
	c, err := NewRollupClient(env.Kube.Config, scheme, k8s.RESTMapper(), client.NewNamespacedClient(k8s, ns), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rollupIn(ns, 0)
	r.Client = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the rollup to start on its backlog", func() (bool, string) {
		return testutil.ToFloat64(r.Metrics.Patches) > 0, "no patch yet"
	})

	fresh := create(t, shortLink(ns, "fresh", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: ns + "-fresh"}))
	waitReady(t, fresh, metav1.ConditionTrue, linksv1.ReasonSynced)
	if p := testutil.ToFloat64(r.Metrics.Patches); p >= backlog {
		t.Fatalf("the rollup wrote all %v patches before the new link was Ready: no backlog was tested", p)
	}
}

// A pass ends when its time is up, without an error, and leaves the rest for the next pass.
func TestVisitsRollupPassEndsWhenItsTimeIsUp(t *testing.T) {
	ns := newNamespace(t)
	const lagging = 10
	countedLinks(t, ns, lagging, func(i int) int64 { return int64(i + 1) })
	c, err := NewRollupClient(env.Kube.Config, scheme, k8s.RESTMapper(), client.NewNamespacedClient(k8s, ns), 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rollupIn(ns, 0)
	r.Client, r.Timeout = c, 2*time.Second // at one patch a second, too short for ten
	runPass(t, r)
	p, left := testutil.ToFloat64(r.Metrics.Patches), testutil.ToFloat64(r.Metrics.Pending)
	if left == 0 || p+left != lagging {
		t.Fatalf("patches = %v, pending = %v; want some left and %d in all", p, left, lagging)
	}
}

// noTotals is a VisitTotaler with no counts: every status is current.
type noTotals struct{}

func (noTotals) VisitTotals(context.Context, string) ([]store.VisitTotal, error) { return nil, nil }

// A pass reads every cached ShortLink without copying it: with nothing lagging, its
// allocations do not grow with the number of links (a copy of each was several).
func TestRollupPassCopiesNoCurrentLink(t *testing.T) {
	ns := newNamespace(t)
	const links = 100
	sls := make([]*linksv1.ShortLink, links)
	for i := range sls {
		sls[i] = create(t, shortLink(ns, fmt.Sprintf("current-%d", i),
			linksv1.ShortLinkSpec{Target: "https://example.com/", Code: fmt.Sprintf("%s-current-%d", ns, i)}))
	}
	// Synced first: the suite's manager, in this process, then allocates nothing for them.
	for _, sl := range sls {
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	}
	cache := startCache(t, ns)
	waitFor(t, "the cache to hold every link", func() (bool, string) {
		var list linksv1.ShortLinkList
		if err := cache.List(context.Background(), &list); err != nil {
			return false, err.Error()
		}
		return len(list.Items) == links, fmt.Sprintf("%d of %d", len(list.Items), links)
	})
	c, err := client.New(env.Kube.Config, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: cache}})
	if err != nil {
		t.Fatal(err)
	}
	r := &VisitsRollup{Client: c, Totals: noTotals{}, Installation: testInstallation()}
	var lagging []behind
	allocs := testing.AllocsPerRun(5, func() {
		if lagging, err = r.lagging(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	if len(lagging) != 0 || allocs >= links {
		t.Fatalf("a pass over %d current links: %d lagging, %.0f allocations; want none lagging and fewer allocations than links",
			links, len(lagging), allocs)
	}
}
