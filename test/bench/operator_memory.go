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
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/shortlink-dev/shortlink/internal/memlimit"
)

// chartMemoryLimitEnv is the GOMEMLIMIT the manager sets itself in a pod of the chart: the
// chart's memory limit (manager.resources.limits.memory in charts/shortlink/values.yaml) times
// memlimit.Share. Here the manager runs without a container, so it would set no soft limit at
// all; this makes its collector behave as it does in an installation.
func chartMemoryLimitEnv(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "charts", "shortlink", "values.yaml")) //nolint:gosec // our chart
	if err != nil {
		return "", fmt.Errorf("read chart values: %w", err)
	}
	var values struct {
		Manager struct {
			Resources struct {
				Limits struct {
					Memory string `json:"memory"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"manager"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return "", fmt.Errorf("parse chart values: %w", err)
	}
	limit, err := resource.ParseQuantity(values.Manager.Resources.Limits.Memory)
	if err != nil {
		return "", fmt.Errorf("chart manager memory limit: %w", err)
	}
	return "GOMEMLIMIT=" + strconv.FormatInt(int64(float64(limit.Value())*memlimit.Share), 10), nil
}

// liveHeapMB is the manager's heap after a full collection, in MB: what its objects, indexes
// and queue hold, without the collector's headroom. The profile (gc=1 runs a collection
// first) is kept in bin/bench/operator-<links>.heap.pprof, to show where the heap goes.
func (o *operatorRun) liveHeapMB(ctx context.Context) (float64, error) {
	base := "http://" + o.pprofAddr + "/debug/pprof/heap?gc=1"
	profile, err := scrape(ctx, base)
	if err != nil {
		return 0, fmt.Errorf("heap profile: %w", err)
	}
	path := filepath.Join(o.h.binDir, fmt.Sprintf("operator-%d.heap.pprof", o.links))
	if err := os.WriteFile(path, []byte(profile), 0o644); err != nil { //nolint:gosec // a profile, for people to read
		return 0, err
	}
	text, err := scrape(ctx, base+"&debug=1")
	if err != nil {
		return 0, fmt.Errorf("heap statistics: %w", err)
	}
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			b, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return b / 1e6, err
		}
	}
	return 0, fmt.Errorf("no HeapAlloc in the heap profile")
}
