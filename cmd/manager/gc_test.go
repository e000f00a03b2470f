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
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/memlimit"
)

// TestManagerCollectorTarget runs the manager as a process, as the kubelet does, and reads its
// collector's settings from its own metrics: the manager's target (and the soft limit under
// the container's limit, if this test runs in one) when the environment says nothing, and
// GOGC and GOMEMLIMIT as given when it does.
func TestManagerCollectorTarget(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true, Postgres: true, Redis: true})
	noLimit := float64(math.MaxInt64)
	if limit, ok := memlimit.Container(); ok {
		noLimit = float64(int64(float64(limit) * memlimit.Share))
	}
	for i, tt := range []struct {
		env            []string
		gogc, memLimit float64
	}{
		// Set but empty is unset, whatever the environment of this test says.
		{[]string{"GOGC=", "GOMEMLIMIT="}, managerGCPercent, noLimit},
		{[]string{"GOGC=80", "GOMEMLIMIT=300MiB"}, 80, 300 << 20},
	} {
		p, metrics := startCollectorManager(t, env, fmt.Sprintf("manager-%d", i), tt.env)
		waitFor(t, fmt.Sprintf("the collector's settings with %v", tt.env), func() error {
			body, err := httpGet("http://" + metrics + "/metrics")
			if err != nil {
				return fmt.Errorf("%w; log:\n%s", err, p.LogTail())
			}
			for name, want := range map[string]float64{"go_gc_gogc_percent": tt.gogc, "go_gc_gomemlimit_bytes": tt.memLimit} {
				if got, ok := metricValue(body, name); !ok || got != want {
					return fmt.Errorf("%s = %v (found %v), want %v", name, got, ok, want)
				}
			}
			return nil
		})
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// startCollectorManager runs the manager with extra environment until the test ends, and
// returns it and its metrics address.
func startCollectorManager(t *testing.T, env *localenv.Env, name string, extra []string) (*localenv.Process, string) {
	t.Helper()
	metricsAddr := freeAddr(t)
	p, err := env.StartProcess(name, os.Args[0], nil, append([]string{
		runAsManager + "=1", "KUBECONFIG=" + env.Kube.Kubeconfig,
		"DATABASE_URL=" + env.Postgres.URL("postgres"), "REDIS_URL=" + env.Redis.URL(), "DEFAULT_DOMAIN=sho.rt",
		"METRICS_BIND_ADDRESS=" + metricsAddr, "HEALTH_PROBE_BIND_ADDRESS=" + freeAddr(t),
	}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p, metricsAddr
}

// metricValue is the value of an unlabelled metric in a Prometheus text exposition.
func metricValue(body, name string) (float64, bool) {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
