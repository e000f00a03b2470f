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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/webhookcert"
)

// newManager wires the reconciler, the leader-only jobs, the policy watcher and metrics.
func newManager(ctx context.Context, o options, d *deps) (manager.Manager, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := linksv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst
	certs := &webhookcert.Source{}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:           scheme,
		Metrics:          metricsserver.Options{BindAddress: o.metricsAddr},
		PprofBindAddress: o.pprofAddr,
		LeaderElection:   o.leaderElect,
		LeaderElectionID: "shortlink-manager.links.shortlink.dev",
		// A manager stopping cleanly hands the lease over at once instead of leaving the others
		// to wait out its lease duration; it exits right after, so nothing runs as a stale leader.
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionNamespace:       o.leaderElectionNS,
		// No probe server of its own: serveProbes answers from before the database is migrated.
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(o.resyncInterval),
		WebhookServer:          o.webhook.server(certs),
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	policy, err := newPolicyWatcher(o)
	if err != nil {
		return nil, err
	}
	states := controllers.NewLinkStates()
	depUp := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "shortlink_dependency_up", Help: "Whether PostgreSQL and Redis answered the last check (1) or not (0).",
	}, []string{"dependency"})
	jobRuns := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_manager_job_runs_total", Help: "Passes of the leader-only jobs, by job and result.",
	}, []string{"job", "result"})
	metrics.Registry.MustRegister(states, depUp, jobRuns)

	r := &controllers.ShortLinkReconciler{
		Client: mgr.GetClient(), Store: d.store, Cache: d.cache, Policy: policy.current,
		Recorder: mgr.GetEventRecorder("shortlink-controller"), States: states,
		Installation: o.installation(),
	}
	if err := r.SetupWithManager(ctx, mgr, o.maxConcurrent, policy.changed); err != nil {
		return nil, fmt.Errorf("set up reconciler: %w", err)
	}
	if err := o.webhook.addWebhook(mgr, certs, r); err != nil {
		return nil, err
	}
	domains := &controllers.ShortLinkDomainReconciler{Client: mgr.GetClient(), Store: d.store, Site: o.site}
	if err := domains.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up domain reconciler: %w", err)
	}
	if err := addRunnables(mgr, o, d, policy, depUp, jobRuns); err != nil {
		return nil, err
	}
	return mgr, nil
}

func addRunnables(mgr manager.Manager, o options, d *deps, policy *policyWatcher, depUp *prometheus.GaugeVec, runs *prometheus.CounterVec) error {
	rollupClient, err := controllers.NewRollupClient(mgr.GetConfig(), mgr.GetScheme(), mgr.GetRESTMapper(), mgr.GetCache(),
		o.visitsRollupQPS)
	if err != nil {
		return err
	}
	rollup := &controllers.VisitsRollup{
		Client: rollupClient, Totals: d.store, Installation: o.installation(),
		MaxPatches: controllers.RollupBudget(o.visitsRollupQPS, o.visitsInterval), Timeout: o.visitsInterval,
		Metrics: controllers.NewRollupMetrics(metrics.Registry),
	}
	gc := &controllers.GarbageCollector{
		Store: d.store, Cache: d.cache, Listed: mgr.GetClient(), Live: mgr.GetAPIReader(),
		InstallID: o.installID, MaxDeletes: o.gcMaxDeletes,
	}
	for _, r := range []manager.Runnable{
		policy,
		manager.RunnableFunc(func(ctx context.Context) error { return watchDependencies(ctx, d, depUp) }),
		&controllers.Job{Name: "visits-rollup", Interval: o.visitsInterval, Runs: runs,
			Run: rollup.Run},
		&controllers.Job{Name: "maintenance", Interval: o.maintInterval, Runs: runs,
			Run: controllers.Maintenance(d.store, o.visitRetention, o.tombstoneKeep, time.Now)},
		&controllers.Job{Name: "garbage-collection", Interval: o.gcInterval, Runs: runs, Run: gc.Run},
	} {
		if err := mgr.Add(r); err != nil {
			return fmt.Errorf("add runnable: %w", err)
		}
	}
	return nil
}

// watchDependencies keeps shortlink_dependency_up current on every replica.
func watchDependencies(ctx context.Context, d *deps, up *prometheus.GaugeVec) error {
	check := func(name string, ping func(context.Context) error) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		v := 1.0
		if ping(pctx) != nil {
			v = 0
		}
		up.WithLabelValues(name).Set(v)
	}
	for {
		check("postgres", d.store.Ping)
		check("redis", func(ctx context.Context) error { return d.redis.Ping(ctx).Err() })
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
}
