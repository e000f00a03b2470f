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
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

func TestGarbageCollectionRemovesOnlyOrphansOfThisInstall(t *testing.T) {
	ns := newNamespace(t)
	live := create(t, shortLink(ns, "kept", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	waitReady(t, live, metav1.ConditionTrue, linksv1.ReasonSynced)
	insertRow := func(code, owner, uid, install string) {
		mustExec(t, `INSERT INTO urls (domain, code, target, source, owner, owner_uid, install_id, version, created_at)
			VALUES ('', $1, 'https://example.com/', 'k8s', $2, $3, $4, nextval('urls_version_seq'), now())`, code, owner, uid, install)
	}
	insertRow("orphan-"+ns, ns+"/vanished", "uid-gone", testInstallID)
	insertRow("foreign-"+ns, ns+"/vanished", "uid-other", "another-install")
	insertRow("stale-uid-"+ns, ns+"/kept", "uid-of-an-older-kept", testInstallID)

	gc := &GarbageCollector{Store: db, Cache: linkCache, Listed: k8s, Live: k8s, InstallID: testInstallID, MaxDeletes: 100}
	if err := gc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for code, wantDeleted := range map[string]bool{
		"orphan-" + ns: true, "stale-uid-" + ns: true, "foreign-" + ns: false, "kept": false,
	} {
		r, ok := row(t, "", code)
		if !ok || r.Deleted != wantDeleted {
			t.Errorf("row %s: present %v, deleted %v; want deleted %v", code, ok, r.Deleted, wantDeleted)
		}
	}
}

func TestGarbageCollectionIsBounded(t *testing.T) {
	ns := newNamespace(t)
	for i := range 5 {
		mustExec(t, `INSERT INTO urls (domain, code, target, source, owner, owner_uid, install_id, version, created_at)
			VALUES ('', $1, 'https://example.com/', 'k8s', $2, 'gone', $3, nextval('urls_version_seq'), now())`,
			ns+"-bounded-"+string(rune('a'+i)), ns+"/nothing", testInstallID)
	}
	gc := &GarbageCollector{Store: db, Cache: linkCache, Listed: k8s, Live: k8s, InstallID: testInstallID, MaxDeletes: 2}
	if err := gc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var left int
	err := db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM urls WHERE code LIKE $1 AND NOT deleted`, ns+"-bounded-%").Scan(&left)
	if err != nil || left != 3 {
		t.Fatalf("rows left after a pass bounded to 2 = %d (%v), want 3", left, err)
	}
}

func TestVisitsRollupWritesOnlyWhatMoved(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "counted", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	visited := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	// 42 visits, 5 of them programs': status shows 37 people's visits and 5 bots'.
	mustExec(t, `INSERT INTO url_stats (domain, code, visits, bot_visits, last_visit_at) VALUES ('', 'counted', 42, 5, $1)
		ON CONFLICT (domain, code) DO UPDATE SET visits = 42, bot_visits = 5, last_visit_at = $1`, visited)
	rollup := (&VisitsRollup{Client: k8s, Totals: db, Installation: testInstallation()}).Run
	if err := rollup(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := get(t, sl)
	if got.Status.Visits != 37 || got.Status.BotVisits != 5 || got.Status.LastVisitTime == nil ||
		!got.Status.LastVisitTime.Equal(&metav1.Time{Time: visited}) {
		t.Fatalf("status visits = %d, bot visits = %d, last = %v; want 37, 5, %v",
			got.Status.Visits, got.Status.BotVisits, got.Status.LastVisitTime, visited)
	}
	if err := rollup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := get(t, sl); again.ResourceVersion != got.ResourceVersion {
		t.Fatal("a rollup with nothing new wrote to the API server")
	}
	// A bot's visit alone moves the status too.
	mustExec(t, `UPDATE url_stats SET visits = 43, bot_visits = 6 WHERE domain = '' AND code = 'counted'`)
	if err := rollup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got = get(t, sl); got.Status.Visits != 37 || got.Status.BotVisits != 6 {
		t.Fatalf("status visits = %d, bot visits = %d after a bot's visit; want 37, 6", got.Status.Visits, got.Status.BotVisits)
	}
}

func TestJobsRunOnlyOnTheLeader(t *testing.T) {
	ns := newNamespace(t)
	runs := make([]*prometheus.CounterVec, 0, 2)
	cancels := make([]context.CancelFunc, 0, 2)
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		mgr, err := ctrl.NewManager(env.Kube.Config, ctrl.Options{
			Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
			LeaderElection: true, LeaderElectionID: "jobs-test", LeaderElectionNamespace: ns,
			LeaseDuration: ptrTo(2 * time.Second), RenewDeadline: ptrTo(time.Second), RetryPeriod: ptrTo(200 * time.Millisecond),
			LeaderElectionReleaseOnCancel: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runs"}, []string{"job", "result"})
		job := &Job{Name: "probe", Interval: 100 * time.Millisecond, Runs: counter, Run: func(context.Context) error { return nil }}
		if err := mgr.Add(job); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = mgr.Start(ctx) }()
		runs, cancels = append(runs, counter), append(cancels, func() { cancel(); <-done })
		if i == 0 {
			waitFor(t, "the first manager to lead and run the job", func() (bool, string) {
				return testutil.ToFloat64(counter.WithLabelValues("probe", "success")) > 0, "no run yet"
			})
		}
	}
	time.Sleep(time.Second) // the follower has had time to run it, were it not a follower
	if n := testutil.ToFloat64(runs[1].WithLabelValues("probe", "success")); n != 0 {
		t.Fatalf("the follower ran the job %v times", n)
	}
	cancels[0]() // the leader goes; the follower takes over
	waitFor(t, "the follower to take over the job", func() (bool, string) {
		return testutil.ToFloat64(runs[1].WithLabelValues("probe", "success")) > 0, "no run yet"
	})
	cancels[1]()
}

func ptrTo[T any](v T) *T { return &v }

func TestMaintenanceCreatesPartitionsAheadAndPrunesBatches(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	mustExec(t, `INSERT INTO stats_batches (batch_id, flushed_at) VALUES ('old-batch', $1), ('new-batch', $2)`,
		now.Add(-48*time.Hour), now.Add(-time.Hour))
	run := Maintenance(db, 90*24*time.Hour, 48*time.Hour, func() time.Time { return now })
	for range 2 { // idempotent
		if err := run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Pool().Query(context.Background(), `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'visit_logs' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		have[name] = true
	}
	for _, want := range []string{"visit_logs_2026_11", "visit_logs_2026_12", "visit_logs_2027_01"} {
		if !have[want] {
			t.Errorf("partition %s missing; have %v", want, have)
		}
	}
	var left []string
	brows, err := db.Pool().Query(context.Background(), `SELECT batch_id FROM stats_batches WHERE batch_id IN ('old-batch', 'new-batch')`)
	if err != nil {
		t.Fatal(err)
	}
	defer brows.Close()
	for brows.Next() {
		var id string
		if err := brows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left = append(left, id)
	}
	if len(left) != 1 || left[0] != "new-batch" {
		t.Errorf("stats batches after maintenance = %v, want only new-batch", left)
	}
}
