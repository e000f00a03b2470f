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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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
	probeAddr   string
	pprofAddr   string
	webhookAddr string
	webhookEnv  []string // the manager's webhook flags, from installWebhooks
	// managerEnv is added to the manager's environment; empty = the shipped defaults.
	managerEnv []string
	links      int
	prefix     string // ShortLink names and codes are prefix + 1..links
}

// operatorSizes are the numbers of ShortLinks the operator scenario applies, each in a fresh
// API server, etcd and database. BENCH_OPERATOR_SIZES (comma-separated) runs other sizes: the
// 100,000 run takes long, and a change is first checked at 10,000.
func operatorSizes(smoke bool) []int {
	if v := os.Getenv("BENCH_OPERATOR_SIZES"); v != "" {
		var sizes []int
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				sizes = append(sizes, n)
			}
		}
		return sizes
	}
	if smoke {
		return []int{200}
	}
	return []int{10000, 100000}
}

// operatorScenario applies N ShortLinks with the manager running as its own process with the
// shipped defaults (no tuning flags) and measures convergence, the manager's peak RSS and
// apiserver writes per ShortLink; then restarts the manager, which reconciles every link
// again with nothing changed — a forced resync, which must write nothing anywhere.
func operatorScenario(ctx context.Context, h *harness) ([]Result, error) {
	var results []Result
	for _, n := range operatorSizes(h.smoke) {
		rs, err := operatorSize(ctx, h, n)
		if err != nil {
			return nil, fmt.Errorf("%d links: %w", n, err)
		}
		// Each size as it finishes: the 100,000 run takes long, and what came before is news.
		printTable(os.Stderr, rs)
		results = append(results, rs...)
	}
	return results, nil
}

func operatorSize(ctx context.Context, h *harness, links int) ([]Result, error) {
	o := &operatorRun{h: h, links: links, prefix: "link-"}
	if err := o.start(ctx, localenv.Options{Kube: true, Postgres: true, Redis: true}); err != nil {
		return nil, err
	}
	defer o.stop()
	return o.measure(ctx)
}

// start brings up the components, connects to them and starts the manager.
func (o *operatorRun) start(ctx context.Context, opts localenv.Options) error {
	env, err := localenv.Start(ctx, opts)
	if err != nil {
		return err
	}
	o.env = env
	if err := o.connect(ctx); err != nil {
		_ = env.Stop()
		return err
	}
	o.metricsAddr, o.probeAddr, o.pprofAddr, o.webhookAddr = freeAddr(), freeAddr(), freeAddr(), freeAddr()
	if o.webhookEnv, err = o.installWebhooks(ctx); err != nil {
		o.stop()
		return err
	}
	if err := o.startManager(ctx); err != nil {
		o.stop()
		return err
	}
	if err := o.waitWebhooks(ctx); err != nil {
		o.stop()
		return err
	}
	return nil
}

func (o *operatorRun) stop() {
	if o.manager != nil {
		_ = o.manager.Stop()
	}
	if o.pg != nil {
		_ = o.pg.Close(context.Background())
	}
	if o.rdb != nil {
		_ = o.rdb.Close()
	}
	_ = o.env.Stop()
}

func (o *operatorRun) measure(ctx context.Context) ([]Result, error) {
	writesBefore, err := o.apiserverWrites(ctx)
	if err != nil {
		return nil, err
	}
	costBefore, err := o.costs(ctx)
	if err != nil {
		return nil, err
	}
	profile := o.profileConvergence(ctx)
	apiProfile := o.profileAPIServer(ctx)
	first := time.Now()
	if err := o.createLinks(ctx); err != nil {
		return nil, err
	}
	last := time.Now()
	if err := o.waitConverged(ctx); err != nil {
		return nil, err
	}
	converged := time.Now()
	writesAfter, err := o.apiserverWrites(ctx)
	if err != nil {
		return nil, err
	}
	costAfter, err := o.costs(ctx)
	if err != nil {
		return nil, err
	}
	rss, err := peakRSSMB(o.manager.Pid())
	if err != nil {
		return nil, err
	}
	live, err := o.liveHeapMB(ctx)
	if err != nil {
		return nil, err
	}
	if err := <-profile; err != nil {
		return nil, err
	}
	if err := <-apiProfile; err != nil {
		return nil, err
	}
	resync, restartRSS, err := o.measureResync(ctx)
	if err != nil {
		return nil, err
	}
	n := float64(o.links)
	convergeS := converged.Sub(last).Seconds()
	writes := writesAfter - writesBefore
	details := costAfter.since(costBefore, n)
	details["converge_s_after_last_create"], details["create_s"] = convergeS, last.Sub(first).Seconds()
	details["manager_writes_per_s"], details[loadAverageKey] = writes/converged.Sub(first).Seconds(), loadAverage()
	return []Result{
		{Name: fmt.Sprintf("operator: %d ShortLinks converge, shipped defaults", o.links), RPS: n / converged.Sub(first).Seconds(),
			Goal: "all Ready, rows and keys in place ≤ 60 s after the last create", Met: convergeS <= 60,
			Details: details},
		{Name: fmt.Sprintf("operator: manager peak RSS, %d ShortLinks", o.links), Goal: "≤ 400 MB",
			Met: rss <= 400 && restartRSS <= 400, Details: map[string]float64{"peak_rss_mb": rss, "peak_rss_mb_after_restart": restartRSS,
				"live_heap_mb": live, "live_heap_bytes_per_link": live * 1e6 / n}},
		{Name: fmt.Sprintf("operator: apiserver writes per ShortLink, %d", o.links), Goal: "≤ 1 (the status; the webhook adds the finalizer)", Met: writes/n <= 1,
			Details: map[string]float64{"writes_per_link": writes / n}},
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
	if err := admissionregistrationv1.AddToScheme(scheme); err != nil {
		return err
	}
	// The creator must outrun the manager, so that convergence is what is measured: no
	// client-side limit (the bench's user is exempt from API Priority and Fairness too).
	cfg := *o.env.Kube.Config
	cfg.QPS, cfg.Burst = -1, 0
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

// startManager runs the manager with the shipped defaults: only where things are, no tuning,
// its admission webhooks on and the soft memory limit it would set under the chart's limit, as
// in an installation.
func (o *operatorRun) startManager(ctx context.Context) error {
	memLimit, err := chartMemoryLimitEnv(o.h.root)
	if err != nil {
		return err
	}
	env := append([]string{
		memLimit,
		"KUBECONFIG=" + o.env.Kube.Kubeconfig,
		"DATABASE_URL=" + o.env.Postgres.URL("postgres"),
		"REDIS_URL=" + o.env.Redis.URL(),
		"DEFAULT_DOMAIN=" + benchHost,
		"METRICS_BIND_ADDRESS=" + o.metricsAddr,
		"HEALTH_PROBE_BIND_ADDRESS=" + o.probeAddr,
		"PPROF_BIND_ADDRESS=" + o.pprofAddr,
	}, append(o.webhookEnv, o.managerEnv...)...)
	p, err := o.env.StartProcess("manager", filepath.Join(o.h.binDir, "manager"), nil, env)
	if err != nil {
		return err
	}
	o.manager = p
	return devenv.Poll(ctx, 2*time.Minute, "manager ready", func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("manager exited:\n%s", p.LogTail())
		}
		resp, err := http.Get("http://" + o.probeAddr + "/readyz") //nolint:gosec,noctx // loopback probe
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// createLinks creates the ShortLinks from many workers without a client-side rate limit, as
// fast as the API server takes them.
func (o *operatorRun) createLinks(ctx context.Context) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(o.links); i = next.Add(1) {
				sl := &linksv1.ShortLink{
					ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: fmt.Sprintf("%s%d", o.prefix, i)},
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

// waitConverged waits until every link has its row, its Redis key, Ready=True and Cached=True.
// The manager's shortlink_links{condition="ready"} says when to look; one paginated list then
// confirms it on the API server. Watching 100,000 objects from here would take CPU from what
// is measured.
func (o *operatorRun) waitConverged(ctx context.Context) error {
	return devenv.Poll(ctx, 20*time.Minute, "convergence", func() (bool, error) {
		ready, err := o.managerMetric(`shortlink_links`, `condition="ready"`)
		if err != nil || ready < float64(o.links) {
			return false, err
		}
		var rows int
		err = o.pg.QueryRow(ctx, `SELECT count(*) FROM urls WHERE NOT deleted AND owner LIKE 'bench/%'`).Scan(&rows)
		if err != nil || rows < o.links {
			return false, err
		}
		keys, err := o.rdb.DBSize(ctx).Result()
		if err != nil || keys < int64(o.links) {
			return false, err
		}
		n, err := o.readyOnAPIServer(ctx)
		return n >= o.links, err
	})
}

// readyOnAPIServer counts the bench's ShortLinks whose status says Ready=True and Cached=True.
func (o *operatorRun) readyOnAPIServer(ctx context.Context) (int, error) {
	n, cont := 0, ""
	for {
		var list linksv1.ShortLinkList
		if err := o.k8s.List(ctx, &list, client.InNamespace(benchNamespace), client.Limit(5000), client.Continue(cont)); err != nil {
			return 0, fmt.Errorf("list shortlinks: %w", err)
		}
		for i := range list.Items {
			// Cached too: a Redis write that timed out (Cached=False) is retried, and the retry
			// writes status again; such a link has not converged yet.
			c := list.Items[i].Status.Conditions
			if meta.IsStatusConditionTrue(c, linksv1.ConditionReady) && meta.IsStatusConditionTrue(c, linksv1.ConditionCached) {
				n++
			}
		}
		if cont = list.Continue; cont == "" {
			return n, nil
		}
	}
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
