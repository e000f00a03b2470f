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
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// rollupRun is the scenario of issue 21 item 5: apply-to-live while every link receives
// traffic and the visits rollup copies the moving counts into status.
type rollupRun struct {
	*operatorRun
	interval   time.Duration // the manager's --visits-sync-interval
	rate       int           // visits a second, spread uniformly over the links
	trials     int
	redirector string // base URL
}

// rollupScenario creates N ShortLinks, starts a redirector and a load generator visiting all
// of them, and while the rollup runs (a short interval, so that several passes fall in the
// run) times kubectl-patch-style target changes of one more link until the redirector serves
// them. It reports the rollup's API writes a minute, from its own counter and the API
// server's count of status patches.
func rollupScenario(ctx context.Context, h *harness) ([]Result, error) {
	r := &rollupRun{interval: 10 * time.Second, rate: 500, trials: 20}
	r.operatorRun = &operatorRun{h: h, links: 10000, prefix: "c"}
	if h.smoke {
		r.interval, r.rate, r.trials, r.links = 2*time.Second, 100, 3, 200
	}
	// The shipped defaults but for the interval; the rollup's own rate limit is the default 5/s.
	r.managerEnv = []string{"VISITS_SYNC_INTERVAL=" + r.interval.String()}
	if err := r.start(ctx, localenv.Options{Kube: true, Postgres: true, PgBouncer: true, Redis: true}); err != nil {
		return nil, err
	}
	defer r.stop()
	if err := r.createLinks(ctx); err != nil {
		return nil, err
	}
	if err := r.waitConverged(ctx); err != nil {
		return nil, err
	}
	if err := r.startRedirector(ctx); err != nil {
		return nil, err
	}
	return r.measure(ctx)
}

func (r *rollupRun) measure(ctx context.Context) ([]Result, error) {
	live := &linksv1.ShortLink{}
	live.Namespace, live.Name, live.Spec.Target = benchNamespace, "live", "https://example.com/v0"
	if err := r.k8s.Create(ctx, live); err != nil {
		return nil, err
	}
	if err := waitLocation(ctx, []string{r.redirector}, benchHost, "https://example.com/v0"); err != nil {
		return nil, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadStart := time.Now()
	visits := r.spreadVisits(loadCtx)
	// Let the counts move and a pass or two run before the first trial.
	time.Sleep(2 * r.interval)
	before, err := r.rollupCounters(ctx)
	if err != nil {
		stopLoad()
		return nil, err
	}
	took, err := r.applyToLive(ctx, live)
	after, cerr := r.rollupCounters(ctx)
	stopLoad()
	sent, failed := visits()
	rate := float64(sent) / time.Since(loadStart).Seconds()
	switch {
	case err != nil:
		return nil, err
	case cerr != nil:
		return nil, cerr
	case failed > 0:
		return nil, fmt.Errorf("%d of %d visits were not answered with a redirect", failed, sent)
	}
	return r.results(took, before, after, rate), nil
}

func (r *rollupRun) results(took []float64, before, after rollupCounters, visitsPerS float64) []Result {
	minutes := after.at.Sub(before.at).Minutes()
	patches := after.patches - before.patches
	budget := 5 * 60.0 // the default --visits-rollup-qps, a minute
	live := liveResult(fmt.Sprintf("apply-to-live while %d links get traffic and the rollup runs", r.links), took)
	live.Details["visits_per_s"] = visitsPerS
	live.Details[loadAverageKey] = loadAverage()
	return []Result{live, {
		Name: fmt.Sprintf("visits rollup: apiserver writes a minute, %d links visited", r.links),
		RPS:  patches / minutes / 60, Baseline: "none (absolute goal)",
		// Writes must happen (the rollup had work) and stay within its own rate limit.
		Goal: "> 0 and ≤ 300 (--visits-rollup-qps 5 × 60)", Met: patches > 0 && patches/minutes <= budget*1.05,
		Details: map[string]float64{
			"rollup_patches_per_min":           patches / minutes,
			"apiserver_status_patches_per_min": (after.statusPatches - before.statusPatches) / minutes,
			"rollup_passes":                    after.passes - before.passes,
			"pending_links_after_last_pass":    after.pending,
			"minutes":                          minutes,
		},
	}}
}

// applyToLive patches the live link's target r.trials times, spread over several rollup
// passes, and times each until the redirector serves the new target.
func (r *rollupRun) applyToLive(ctx context.Context, live *linksv1.ShortLink) ([]float64, error) {
	var took []float64
	gap := max(time.Second, 3*r.interval/time.Duration(max(1, r.trials/4)))
	for i := range r.trials {
		target := fmt.Sprintf("https://example.com/r%d", i)
		start := time.Now()
		patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"spec":{"target":%q}}`, target))
		if err := r.k8s.Patch(ctx, live, patch); err != nil {
			return nil, fmt.Errorf("patch live: %w", err)
		}
		if err := waitLocation(ctx, []string{r.redirector}, benchHost, target); err != nil {
			return nil, err
		}
		took = append(took, time.Since(start).Seconds())
		time.Sleep(gap)
	}
	return took, nil
}

// startRedirector runs cmd/redirector as the redirector scenarios do, on benchHost.
func (r *rollupRun) startRedirector(ctx context.Context) error {
	s, err := (&redirectRun{h: r.h, env: r.env}).startRedirector(ctx, "redirector")
	if err != nil {
		return err
	}
	r.redirector = s.url
	return nil
}

// spreadVisits sends r.rate GETs a second from a browser's User-Agent (people's visits, which
// status.visits shows), each to a link drawn uniformly from all of them, until ctx ends. The
// function returned waits for the workers and says how many were sent and how many were not
// answered with a redirect.
func (r *rollupRun) spreadVisits(ctx context.Context) func() (sent, failed int64) {
	const workers = 8
	var sentN, failedN atomic.Int64
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	every := time.Second * workers / time.Duration(r.rate)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				sentN.Add(1)
				if !r.visit(ctx, hc, rand.IntN(r.links)+1) && ctx.Err() == nil { //nolint:gosec // load, not secrets
					failedN.Add(1)
				}
			}
		}()
	}
	return func() (int64, int64) {
		wg.Wait()
		return sentN.Load(), failedN.Load()
	}
}

func (r *rollupRun) visit(ctx context.Context, hc *http.Client, n int) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/%s%d", r.redirector, r.prefix, n), nil)
	if err != nil {
		return false
	}
	req.Host = benchHost
	req.Header.Set("User-Agent", benchUserAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusFound
}

// rollupCounters are the rollup's counts at one moment.
type rollupCounters struct {
	at                                      time.Time
	patches, statusPatches, passes, pending float64
}

func (r *rollupRun) rollupCounters(ctx context.Context) (rollupCounters, error) {
	c := rollupCounters{at: time.Now()}
	var err error
	if c.patches, err = r.managerMetric("shortlink_visits_rollup_patches_total", ""); err != nil {
		return c, err
	}
	if c.pending, err = r.managerMetric("shortlink_visits_rollup_pending_links", ""); err != nil {
		return c, err
	}
	if c.passes, err = r.managerMetric("shortlink_manager_job_runs_total", `job="visits-rollup"`); err != nil {
		return c, err
	}
	body, err := r.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return c, fmt.Errorf("read apiserver metrics: %w", err)
	}
	c.statusPatches = sumMetric(string(body), "apiserver_request_total", func(l string) bool {
		return strings.Contains(l, `resource="shortlinks"`) && strings.Contains(l, `subresource="status"`) &&
			strings.Contains(l, `verb="PATCH"`)
	})
	return c, nil
}
