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
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/devenv"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// benchNamespace holds the ShortLinks the operator scenario applies.
const benchNamespace = "bench"

// operatorRun is the state of one operator scenario.
type operatorRun struct {
	h           *harness
	env         *localenv.Env
	k8s         client.WithWatch
	kube        *kubernetes.Clientset
	pg          *pgx.Conn
	rdb         *redis.Client
	manager     *localenv.Process
	metricsAddr string
	links       int
	resync      time.Duration
}

// operatorScenario applies N ShortLinks with the manager running as its own process and
// measures convergence, the manager's peak RSS and apiserver writes per ShortLink; then one
// resync of all of them with nothing changed, which must write nothing anywhere.
func operatorScenario(ctx context.Context, h *harness) ([]Result, error) {
	o := &operatorRun{h: h, links: 10000, resync: 30 * time.Second}
	if h.smoke {
		o.links, o.resync = 200, 5*time.Second
	}
	env, err := localenv.Start(ctx, localenv.Options{Kube: true, Postgres: true, Redis: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = env.Stop() }()
	o.env = env
	if err := o.connect(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = o.pg.Close(ctx); _ = o.rdb.Close() }()
	if err := o.startManager(ctx); err != nil {
		return nil, err
	}
	defer func() { _ = o.manager.Stop() }()
	return o.measure(ctx)
}

func (o *operatorRun) measure(ctx context.Context) ([]Result, error) {
	writesBefore, err := o.apiserverWrites(ctx)
	if err != nil {
		return nil, err
	}
	ready := o.watchReady(ctx)
	first := time.Now()
	if err := o.createLinks(ctx); err != nil {
		return nil, err
	}
	last := time.Now()
	if err := o.waitConverged(ctx, ready); err != nil {
		return nil, err
	}
	converged := time.Now()
	writesAfter, err := o.apiserverWrites(ctx)
	if err != nil {
		return nil, err
	}
	rss, err := peakRSSMB(o.manager.Pid())
	if err != nil {
		return nil, err
	}
	resync, err := o.measureResync(ctx)
	if err != nil {
		return nil, err
	}
	n := float64(o.links)
	convergeS := converged.Sub(last).Seconds()
	perLink := (writesAfter - writesBefore) / n
	return []Result{
		{Name: fmt.Sprintf("operator: %d ShortLinks converge", o.links), RPS: n / converged.Sub(first).Seconds(),
			Goal: "all Ready, rows and keys in place ≤ 60 s after the last create", Met: convergeS <= 60,
			Details: map[string]float64{"converge_s_after_last_create": convergeS, "create_s": last.Sub(first).Seconds()}},
		{Name: "operator: manager peak RSS", Goal: "< 200 MB", Met: rss < 200, Details: map[string]float64{"peak_rss_mb": rss}},
		{Name: "operator: apiserver writes per ShortLink", Goal: "≤ 2 (finalizer, status)", Met: perLink <= 2,
			Details: map[string]float64{"writes_per_link": perLink}},
		resync,
	}, nil
}

func (o *operatorRun) connect(ctx context.Context) error {
	scheme := runtime.NewScheme()
	if err := linksv1.AddToScheme(scheme); err != nil {
		return err
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		return err
	}
	cfg := *o.env.Kube.Config
	cfg.QPS, cfg.Burst = 2000, 4000
	var err error
	if o.k8s, err = client.NewWithWatch(&cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if o.kube, err = kubernetes.NewForConfig(&cfg); err != nil {
		return err
	}
	if o.pg, err = pgx.Connect(ctx, o.env.Postgres.URL("postgres")); err != nil {
		return err
	}
	o.rdb = redis.NewClient(&redis.Options{Addr: o.env.Redis.Addr()})
	return o.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}})
}

func (o *operatorRun) startManager(ctx context.Context) error {
	metrics, probe := freeAddr(), freeAddr()
	o.metricsAddr = metrics
	env := []string{
		"KUBECONFIG=" + o.env.Kube.Kubeconfig,
		"DATABASE_URL=" + o.env.Postgres.URL("postgres"),
		"REDIS_URL=" + o.env.Redis.URL(),
		"DEFAULT_DOMAIN=sho.rt",
		"METRICS_BIND_ADDRESS=" + metrics,
		"HEALTH_PROBE_BIND_ADDRESS=" + probe,
		"RESYNC_INTERVAL=" + o.resync.String(),
		// Reconciles wait on the network (apiserver, PostgreSQL, Redis), not the CPU.
		"MAX_CONCURRENT_RECONCILES=16",
		"KUBE_API_QPS=1000",
		"KUBE_API_BURST=2000",
	}
	p, err := o.env.StartProcess("manager", filepath.Join(o.h.binDir, "manager"), nil, env)
	if err != nil {
		return err
	}
	o.manager = p
	return devenv.Poll(ctx, 2*time.Minute, "manager ready", func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("manager exited:\n%s", p.LogTail())
		}
		resp, err := http.Get("http://" + probe + "/readyz") //nolint:gosec,noctx // loopback probe
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// createLinks creates the ShortLinks from a few workers, as a GitOps sync would.
func (o *operatorRun) createLinks(ctx context.Context) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(o.links); i = next.Add(1) {
				sl := &linksv1.ShortLink{
					ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: fmt.Sprintf("link-%05d", i)},
					Spec:       linksv1.ShortLinkSpec{Target: linksv1.TargetURL(fmt.Sprintf("https://example.com/page/%d?utm=bench", i))},
				}
				if err := o.k8s.Create(ctx, sl); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// waitConverged waits until every link has its row, its Redis key and Ready=True. Readiness
// comes from a watch started before the creates: listing 10,000 objects again and again would
// load the API server it measures.
func (o *operatorRun) waitConverged(ctx context.Context, ready *readyCounter) error {
	return devenv.Poll(ctx, 10*time.Minute, "convergence", func() (bool, error) {
		if ready.count() < o.links {
			return false, ready.err()
		}
		var rows int
		err := o.pg.QueryRow(ctx, `SELECT count(*) FROM urls WHERE NOT deleted AND owner LIKE 'bench/%'`).Scan(&rows)
		if err != nil || rows < o.links {
			return false, err
		}
		keys, err := o.rdb.DBSize(ctx).Result()
		return keys >= int64(o.links), err
	})
}

// readyCounter follows the ShortLinks of the bench namespace through a watch.
type readyCounter struct {
	mu      sync.Mutex
	ready   map[string]bool
	n       int
	lastErr error
}

func (o *operatorRun) watchReady(ctx context.Context) *readyCounter {
	rc := &readyCounter{ready: map[string]bool{}}
	go func() {
		// The API server ends a watch whose reader falls behind; list again and go on.
		for ctx.Err() == nil {
			if err := o.followReady(ctx, rc); err != nil {
				rc.fail(err)
				return
			}
		}
	}()
	return rc
}

// followReady lists the ShortLinks, then follows them through a watch until it ends.
func (o *operatorRun) followReady(ctx context.Context, rc *readyCounter) error {
	var list linksv1.ShortLinkList
	if err := o.k8s.List(ctx, &list, client.InNamespace(benchNamespace)); err != nil {
		return fmt.Errorf("list shortlinks: %w", err)
	}
	for i := range list.Items {
		rc.set(list.Items[i].Name, meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, linksv1.ConditionReady))
	}
	w, err := o.k8s.Watch(ctx, &linksv1.ShortLinkList{}, &client.ListOptions{
		Namespace: benchNamespace, Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
	if err != nil {
		return fmt.Errorf("watch shortlinks: %w", err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if sl, ok := ev.Object.(*linksv1.ShortLink); ok {
			rc.set(sl.Name, meta.IsStatusConditionTrue(sl.Status.Conditions, linksv1.ConditionReady))
		}
	}
	return nil
}

func (rc *readyCounter) set(name string, ready bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ready[name] != ready {
		rc.ready[name] = ready
		if ready {
			rc.n++
		} else {
			rc.n--
		}
	}
}

func (rc *readyCounter) fail(err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.lastErr = err
}

func (rc *readyCounter) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

func (rc *readyCounter) err() error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.lastErr
}

// apiserverWrites counts PATCH, PUT and APPLY requests on shortlinks (status included) that
// the API server has served: the manager's writes. Our own creates are POSTs.
func (o *operatorRun) apiserverWrites(ctx context.Context) (float64, error) {
	body, err := o.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("read apiserver metrics: %w", err)
	}
	return sumMetric(string(body), "apiserver_request_total", func(labels string) bool {
		return strings.Contains(labels, `resource="shortlinks"`) &&
			(strings.Contains(labels, `verb="PATCH"`) || strings.Contains(labels, `verb="PUT"`) || strings.Contains(labels, `verb="APPLY"`))
	}), nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
