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
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/devenv"
)

// liveScenario measures apply-to-live on the `make dev` platform: from the start of a
// `kubectl patch` of a ShortLink's target until the redirector serves the new Location; then
// the same until two redirector replicas both serve it (issue 5).
func liveScenario(ctx context.Context, h *harness) ([]Result, error) {
	binDir := filepath.Join(h.binDir, "live")
	if err := devenv.Build(ctx, h.root, binDir); err != nil {
		return nil, err
	}
	p, err := devenv.Start(ctx, devenv.Options{Root: h.root, BinDir: binDir})
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop() }()
	manifest := "apiVersion: links.shortlink.dev/v1alpha1\nkind: ShortLink\nmetadata: {name: live, namespace: default}\nspec: {target: 'https://example.com/v0'}\n"
	if _, err := p.Kubectl(ctx, strings.NewReader(manifest), "apply", "-f", "-"); err != nil {
		return nil, err
	}
	one := []string{"http://" + p.RedirectorAddr}
	if err := waitLocation(ctx, one, "localhost", "https://example.com/v0"); err != nil {
		return nil, err
	}
	trials := 20
	if h.smoke {
		trials = 3
	}
	single, err := applyToLive(ctx, p, one, trials, "a")
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	extra, err := p.StartExtraRedirector(ctx, "redirector-2", addr, freeAddr())
	if err != nil {
		return nil, err
	}
	defer func() { _ = extra.Stop() }()
	two := []string{one[0], "http://" + addr}
	double, err := applyToLive(ctx, p, two, trials, "b")
	if err != nil {
		return nil, err
	}
	return []Result{liveResult("apply-to-live: kubectl patch → new Location", single),
		liveResult("apply-to-live: both of two redirector replicas", double)}, nil
}

// applyToLive patches the target trials times and times each until every url serves it.
func applyToLive(ctx context.Context, p *devenv.Platform, urls []string, trials int, tag string) ([]float64, error) {
	var took []float64
	for i := range trials {
		target := fmt.Sprintf("https://example.com/%s%d", tag, i)
		start := time.Now()
		patch := fmt.Sprintf(`{"spec":{"target":%q}}`, target)
		if _, err := p.Kubectl(ctx, nil, "patch", "shortlink", "live", "-n", "default", "--type=merge", "-p", patch); err != nil {
			return nil, err
		}
		if err := waitLocation(ctx, urls, "localhost", target); err != nil {
			return nil, err
		}
		took = append(took, time.Since(start).Seconds())
	}
	return took, nil
}

// waitLocation polls every url with HEAD (not counted as a visit) for /live on host until
// all answer target, for at most a minute.
func waitLocation(ctx context.Context, urls []string, host, target string) error {
	const timeout = time.Minute
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pending := append([]string(nil), urls...)
	deadline := time.Now().Add(timeout)
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%v did not serve %s within %s", pending, target, timeout)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, pending[0]+"/live", nil)
		req.Host = host
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.Header.Get("Location") == target {
				pending = pending[1:]
				continue
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func liveResult(name string, took []float64) Result {
	worst := 0.0
	for _, t := range took {
		worst = max(worst, t)
	}
	med := median(took)
	return Result{Name: name, P50ms: med * 1000, P99ms: worst * 1000, Baseline: "none (absolute goal)",
		Goal: "median ≤ 1 s, worst ≤ 2 s", Met: med <= 1 && worst <= 2,
		Details: map[string]float64{"trials": float64(len(took)), "median_s": med, "worst_s": worst}}
}
