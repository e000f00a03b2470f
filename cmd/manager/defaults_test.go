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
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// The binary, the chart and kustomize give users one set of API defaults, the one the
// operator benchmark measures (issue 21 item 4): an import of 100,000 ShortLinks must not
// depend on how the manager was installed.
func TestChartAndKustomizeStateTheBinaryDefaults(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x"}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o, err := parseOptions(nil, func(k string) string { return env[k] }, fs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"KUBE_API_QPS":              fmt.Sprint(o.kubeAPIQPS),
		"KUBE_API_BURST":            fmt.Sprint(o.kubeAPIBurst),
		"MAX_CONCURRENT_RECONCILES": fmt.Sprint(o.maxConcurrent),
		"VISITS_ROLLUP_QPS":         fmt.Sprint(o.visitsRollupQPS),
	}
	if o.maxConcurrent != 32 || o.kubeAPIQPS != 1000 || o.kubeAPIBurst != 2000 {
		t.Errorf("binary defaults = %v; the benchmark measured 32 reconciles at 1000/2000", want)
	}
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	chart := chartManagerValues(t, root)
	for name, value := range map[string]any{
		"KUBE_API_QPS": chart.KubeAPIQPS, "KUBE_API_BURST": chart.KubeAPIBurst,
		"MAX_CONCURRENT_RECONCILES": chart.MaxConcurrentReconciles, "VISITS_ROLLUP_QPS": chart.VisitsRollupQPS,
	} {
		if got := fmt.Sprint(value); got != want[name] {
			t.Errorf("chart value for %s = %s, binary default %s", name, got, want[name])
		}
	}
	kustomize := kustomizeManagerEnv(t, root)
	for name, w := range want {
		if got := kustomize[name]; got != w {
			t.Errorf("config/manager sets %s=%q, binary default %s", name, got, w)
		}
	}
}

type managerValues struct {
	KubeAPIQPS              float64 `json:"kubeAPIQPS"`
	KubeAPIBurst            int     `json:"kubeAPIBurst"`
	MaxConcurrentReconciles int     `json:"maxConcurrentReconciles"`
	VisitsRollupQPS         float64 `json:"visitsRollupQPS"`
}

func chartManagerValues(t *testing.T, root string) managerValues {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "charts", "shortlink", "values.yaml")) //nolint:gosec // the repository's own file
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Manager managerValues `json:"manager"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	return values.Manager
}

// kustomizeManagerEnv is the literal env of config/manager's manager container.
func kustomizeManagerEnv(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config", "manager", "manager.yaml")) //nolint:gosec // the repository's own file
	if err != nil {
		t.Fatal(err)
	}
	var deploy struct {
		Kind string `json:"kind"`
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name string `json:"name"`
						Env  []struct {
							Name  string `json:"name"`
							Value string `json:"value"`
						} `json:"env"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	env := map[string]string{}
	for _, doc := range splitYAML(data) {
		if err := yaml.Unmarshal(doc, &deploy); err != nil || deploy.Kind != "Deployment" {
			continue
		}
		for _, c := range deploy.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if c.Name == "manager" {
					env[e.Name] = e.Value
				}
			}
		}
	}
	return env
}

func splitYAML(data []byte) [][]byte { return bytes.Split(data, []byte("\n---")) }
