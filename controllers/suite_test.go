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
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// The suite shares one real environment — kube-apiserver, PostgreSQL, Redis — and one running
// manager; each test works in its own namespace. Tests that take a dependency away run in
// sequence and bring it back before they end.
var (
	env       *localenv.Env
	k8s       client.Client
	db        *store.Store
	rdb       *redis.Client
	linkCache *cache.Cache
	policy    PolicySource
	policyCh  = make(chan event.GenericEvent, 1)
	// managerClient is the suite manager's cached client, which has the claim index: tests
	// that call Reconcile themselves use it, as the manager's reconciler does.
	managerClient client.Client
	scheme        = runtime.NewScheme()
	nsCounter     atomic.Int32
)

const (
	testDefaultDomain = "sho.rt"
	testInstallID     = "test-install"
	testResync        = 2 * time.Second
	// suiteResync is long: the shared manager must not repair anything by resync, so that tests
	// see what events alone do; drift tests run a manager of their own with testResync.
	suiteResync = time.Hour
	// eventually is how long a test waits for the operator; generous, since speed is for benchmarks.
	eventually = 60 * time.Second
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false), zap.Level(zapLevel())))
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controllers suite:", err)
		code = 1
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	env, err = localenv.Start(ctx, localenv.Options{Kube: true, Postgres: true, Redis: true})
	if err != nil {
		if localenv.MissingOutsideCI(err) {
			fmt.Fprintln(os.Stderr, "SKIP controllers suite:", err)
			return 0, nil
		}
		return 1, err
	}
	defer func() { _ = env.Stop() }()
	if err := connectSuite(ctx); err != nil {
		return 1, err
	}
	defer db.Close()
	defer func() { _ = rdb.Close() }()
	done, err := startManager(ctx)
	if err != nil {
		return 1, err
	}
	code := m.Run()
	cancel()
	<-done
	return code, nil
}

func connectSuite(ctx context.Context) error {
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, linksv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	var err error
	if k8s, err = client.New(env.Kube.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if err := store.Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		return err
	}
	if db, err = store.Open(ctx, env.Postgres.URL("postgres"), store.Options{}); err != nil {
		return err
	}
	if rdb, err = cache.NewClient(env.Redis.URL(), cache.ClientOptions{}); err != nil {
		return err
	}
	linkCache = cache.New(rdb, cache.Options{})
	p, err := links.NewPolicy([]string{testDefaultDomain, "go.example.com"}, nil)
	if err != nil {
		return err
	}
	policy.Store(p)
	return nil
}

func startManager(ctx context.Context) (<-chan struct{}, error) {
	return runManager(ctx, suiteResync, "")
}

// runManager runs a manager with the reconciler until ctx ends; namespace, when set, limits
// what it watches.
func runManager(ctx context.Context, resync time.Duration, namespace string) (<-chan struct{}, error) {
	opts := CacheOptions(resync)
	if namespace != "" {
		opts.DefaultNamespaces = map[string]crcache.Config{namespace: {}}
	}
	mgr, err := ctrl.NewManager(env.Kube.Config, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      opts,
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	r := &ShortLinkReconciler{
		Client: mgr.GetClient(), Store: db, Cache: linkCache, Policy: &policy, States: NewLinkStates(),
		Recorder:     mgr.GetEventRecorder("shortlink-controller"),
		Installation: testInstallation(),
	}
	var changes <-chan event.GenericEvent
	if namespace == "" {
		changes, managerClient = policyCh, mgr.GetClient()
	}
	if err := r.SetupWithManager(ctx, mgr, 4, changes); err != nil {
		return nil, err
	}
	if namespace == "" {
		d := &ShortLinkDomainReconciler{Client: mgr.GetClient(), Store: db, Site: r.Installation.Site}
		if err := d.SetupWithManager(mgr); err != nil {
			return nil, err
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return done, nil
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -1
	}
	return 2 // errors only: reconcile errors are expected in outage tests
}

// newNamespace gives a test a namespace of its own.
// testInstallation serves testDefaultDomain and stamps rows with testInstallID.
func testInstallation() Installation {
	return Installation{Site: links.MustSite(testDefaultDomain), InstallID: testInstallID}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d", nsCounter.Add(1))
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func shortLink(ns, name string, spec linksv1.ShortLinkSpec) *linksv1.ShortLink {
	return &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func create(t *testing.T, sl *linksv1.ShortLink) *linksv1.ShortLink {
	t.Helper()
	if err := k8s.Create(context.Background(), sl); err != nil {
		t.Fatalf("create %s/%s: %v", sl.Namespace, sl.Name, err)
	}
	return sl
}

// waitFor polls cond until it holds, failing after a generous timeout with the last reason.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, sl *linksv1.ShortLink) *linksv1.ShortLink {
	t.Helper()
	var got linksv1.ShortLink
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sl), &got); err != nil {
		t.Fatalf("get %s/%s: %v", sl.Namespace, sl.Name, err)
	}
	return &got
}

// waitReady waits until Ready has the given status and reason for the current generation.
func waitReady(t *testing.T, sl *linksv1.ShortLink, status metav1.ConditionStatus, reason string) *linksv1.ShortLink {
	t.Helper()
	var got *linksv1.ShortLink
	waitFor(t, fmt.Sprintf("%s/%s Ready=%s/%s", sl.Namespace, sl.Name, status, reason), func() (bool, string) {
		got = get(t, sl)
		c := meta.FindStatusCondition(got.Status.Conditions, linksv1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		ok := c.Status == status && c.Reason == reason && c.ObservedGeneration == got.Generation
		return ok, fmt.Sprintf("Ready=%s/%s (%s) at generation %d of %d", c.Status, c.Reason, c.Message, c.ObservedGeneration, got.Generation)
	})
	return got
}

func condition(sl *linksv1.ShortLink, typ string) *metav1.Condition {
	return meta.FindStatusCondition(sl.Status.Conditions, typ)
}

// row reads the row of (domain, code), tombstones included.
func row(t *testing.T, domain, code string) (store.Row, bool) {
	t.Helper()
	r, err := db.Get(context.Background(), domain, code)
	if err != nil {
		return store.Row{}, false
	}
	return r, true
}

// cacheEntry reads the Redis entry of code on the default domain.
func cacheEntry(code string) (cache.Entry, bool) {
	e, err := linkCache.Get(context.Background(), "", code)
	return e, err == nil
}
