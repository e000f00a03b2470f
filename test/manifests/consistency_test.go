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

package manifests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestRenderingsHaveThePlatform: every rendering scales the redirectors, protects them from
// drains, pools their database connections and admits only the traffic each piece needs.
func TestRenderingsHaveThePlatform(t *testing.T) {
	for _, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			hpa := r.one(t, "HorizontalPodAutoscaler", "shortlink-redirector")
			if hpa.GetAPIVersion() != "autoscaling/v2" {
				t.Errorf("HPA is %s, want autoscaling/v2", hpa.GetAPIVersion())
			}
			if ref, _, _ := unstructured.NestedString(hpa.Object, "spec", "scaleTargetRef", "name"); ref != "shortlink-redirector" {
				t.Errorf("HPA scales %q, want the redirector Deployment", ref)
			}
			r.one(t, "PodDisruptionBudget", "shortlink-redirector")
			r.component(t, "pgbouncer")
			r.one(t, "Service", "shortlink-pgbouncer")
			policies := r.find("NetworkPolicy")
			for _, c := range []string{"manager", "redirector", "pgbouncer"} {
				if _, ok := policies["shortlink-"+c]; !ok {
					t.Errorf("no NetworkPolicy for %s", c)
				}
			}
			// Every pod is selected by a policy: nothing reaches a pod that no policy admits.
			for _, d := range r.find("Deployment") {
				if _, ok := policies[d.GetName()]; !ok {
					t.Errorf("Deployment %s has no NetworkPolicy of its own", d.GetName())
				}
			}
			r.one(t, "Role", "shortlink-leader-election-role")
			r.one(t, "ClusterRole", "shortlink-manager-role")
		})
	}
}

// TestRenderingsAgree: kustomize and helm install the same workloads: images, ports, probes,
// lifecycle, environment and RBAC rules. Names, labels and annotations may differ.
func TestRenderingsAgree(t *testing.T) {
	for _, pair := range pairs {
		a, b := render(t, pair[0]), render(t, pair[1])
		t.Run(pair[0]+" vs "+pair[1], func(t *testing.T) {
			for name, da := range a.find("Deployment") {
				db, ok := b.find("Deployment")[name]
				if !ok {
					t.Errorf("Deployment %s only in %s", name, a.name)
					continue
				}
				compareWorkloads(t, name, da, db)
			}
			for _, kind := range []string{"Service", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget"} {
				for name, oa := range a.find(kind) {
					ob, ok := b.find(kind)[name]
					if !ok {
						t.Errorf("%s %s only in %s", kind, name, a.name)
						continue
					}
					sa, sb := withoutLabels(oa.Object["spec"]), withoutLabels(ob.Object["spec"])
					if kind == "HorizontalPodAutoscaler" {
						// The chart's extraMetrics (a requests-per-second target through
						// prometheus-adapter) are opt-in; the all-on values add one.
						sa, sb = firstMetric(sa), firstMetric(sb)
					}
					if !reflect.DeepEqual(sa, sb) {
						t.Errorf("%s %s differs (selector labels aside):\n%s: %s\n%s: %s", kind, name, a.name, toYAML(sa), b.name, toYAML(sb))
					}
				}
			}
			for _, kind := range []string{"ClusterRole", "Role"} {
				for name, oa := range a.find(kind) {
					ob, ok := b.find(kind)[name]
					if !ok {
						t.Errorf("%s %s only in %s", kind, name, a.name)
						continue
					}
					if !reflect.DeepEqual(oa.Object["rules"], ob.Object["rules"]) {
						t.Errorf("%s %s rules differ:\n%s: %s\n%s: %s", kind, name, a.name, toYAML(oa.Object["rules"]), b.name, toYAML(ob.Object["rules"]))
					}
				}
			}
			// The same objects, by kind and name. The chart creates no Namespace (helm install
			// --create-namespace does), and kustomize hashes the PgBouncer ConfigMap's name.
			ka := slices.DeleteFunc(a.keys(), func(k string) bool { return strings.HasPrefix(k, "Namespace/") })
			kb := b.keys()
			for _, k := range ka {
				if !slices.Contains(kb, k) && !strings.HasPrefix(k, "ConfigMap/shortlink-pgbouncer") {
					t.Errorf("%s has %s, %s does not", a.name, k, b.name)
				}
			}
			for _, k := range kb {
				if !slices.Contains(ka, k) && !strings.HasPrefix(k, "ConfigMap/shortlink-pgbouncer") {
					t.Errorf("%s has %s, %s does not", b.name, k, a.name)
				}
			}
		})
	}
}

func compareWorkloads(t *testing.T, name string, a, b *unstructured.Unstructured) {
	t.Helper()
	ca, cb := containers(t, a), containers(t, b)
	if len(ca) != len(cb) {
		t.Errorf("Deployment %s: %d containers against %d", name, len(ca), len(cb))
		return
	}
	for i := range ca {
		for _, field := range []string{"name", "image", "imagePullPolicy", "command", "args", "ports", "readinessProbe",
			"livenessProbe", "startupProbe", "lifecycle", "securityContext", "volumeMounts"} {
			if !reflect.DeepEqual(ca[i][field], cb[i][field]) {
				t.Errorf("Deployment %s container %v: %s differs:\n%s\nagainst\n%s", name, ca[i]["name"], field, toYAML(ca[i][field]), toYAML(cb[i][field]))
			}
		}
		if ea, eb := envNames(ca[i]), envNames(cb[i]); !reflect.DeepEqual(ea, eb) {
			t.Errorf("Deployment %s container %v: environment %v against %v", name, ca[i]["name"], ea, eb)
		}
	}
	for _, field := range []string{"securityContext", "terminationGracePeriodSeconds", "automountServiceAccountToken", "serviceAccountName"} {
		fa, _, _ := unstructured.NestedFieldNoCopy(a.Object, "spec", "template", "spec", field)
		fb, _, _ := unstructured.NestedFieldNoCopy(b.Object, "spec", "template", "spec", field)
		if !reflect.DeepEqual(fa, fb) {
			t.Errorf("Deployment %s: pod %s differs: %v against %v", name, field, fa, fb)
		}
	}
}

// envNames lists a container's environment: literal values, and the key of each reference,
// sorted: kustomize's strategic merge puts a component's entries first, and no entry refers to
// another with $(NAME), so the order means nothing.
func envNames(c map[string]any) []string {
	var out []string
	env, _ := c["env"].([]any)
	for _, e := range env {
		m := e.(map[string]any)
		switch {
		case m["value"] != nil:
			out = append(out, fmt.Sprintf("%v=%v", m["name"], m["value"]))
		case m["valueFrom"] != nil:
			key, _, _ := unstructured.NestedString(m, "valueFrom", "secretKeyRef", "key")
			out = append(out, fmt.Sprintf("%v<-%s", m["name"], key))
		default:
			out = append(out, fmt.Sprint(m["name"]))
		}
	}
	slices.Sort(out)
	return out
}

// withoutLabels drops label maps (selectors name helm's instance label, kustomize's do not)
// and the names of generated ConfigMaps (kustomize adds a hash).
func withoutLabels(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "matchLabels" || k == "selector" && isStringMap(e) {
				continue
			}
			out[k] = withoutLabels(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutLabels(e)
		}
		return out
	}
	return v
}

func firstMetric(spec any) any {
	m := spec.(map[string]any)
	if metrics, ok := m["metrics"].([]any); ok && len(metrics) > 1 {
		m["metrics"] = metrics[:1]
	}
	return m
}

func isStringMap(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, e := range m {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func toYAML(v any) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(out)
}

// TestChartCopiesMatchConfig: the chart holds copies of generated files (CRD, manager RBAC)
// and of the dashboard; `make chart-sync` refreshes them, and this test fails until it has run.
func TestChartCopiesMatchConfig(t *testing.T) {
	root := repoRoot(t)
	t.Run("CRD", func(t *testing.T) {
		bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
		if err != nil || len(bases) == 0 {
			t.Fatalf("no generated CRDs: %v", err)
		}
		chart := render(t, helmDefault).find("CustomResourceDefinition")
		if len(chart) != len(bases) {
			t.Errorf("the chart has %d CRDs, config/crd/bases %d: run `make chart-sync`", len(chart), len(bases))
		}
		for _, f := range bases {
			data, err := os.ReadFile(f) //nolint:gosec // a file of this repository
			if err != nil {
				t.Fatal(err)
			}
			want := decode(t, data)[0]
			got, ok := chart[want.GetName()]
			if !ok {
				t.Errorf("the chart lacks CRD %s: run `make chart-sync`", want.GetName())
				continue
			}
			got = got.DeepCopy()
			ann := got.GetAnnotations()
			if ann["helm.sh/resource-policy"] != "keep" {
				t.Errorf("CRD %s lacks helm.sh/resource-policy: keep", got.GetName())
			}
			delete(ann, "helm.sh/resource-policy")
			got.SetAnnotations(ann)
			if !reflect.DeepEqual(got.Object, want.Object) {
				t.Errorf("the chart's CRD %s differs from %s: run `make chart-sync`", got.GetName(), f)
			}
		}
		if crds := decode(t, helmTemplate(t, release, "--set", "crd.keep=false")); len(crds) > 0 {
			for _, o := range crds {
				if o.GetKind() == "CustomResourceDefinition" && o.GetAnnotations()["helm.sh/resource-policy"] != "" {
					t.Errorf("crd.keep=false still keeps the CRD")
				}
			}
		}
		for _, o := range decode(t, helmTemplate(t, release, "--set", "crd.enabled=false")) {
			if o.GetKind() == "CustomResourceDefinition" {
				t.Errorf("crd.enabled=false still renders CRD %s", o.GetName())
			}
		}
	})
	t.Run("files", func(t *testing.T) {
		for chartFile, configFile := range map[string]string{
			"charts/shortlink/files/manager-role.yaml":          "config/rbac/role.yaml",
			"charts/shortlink/dashboards/shortlink.json":        "config/prometheus/dashboards/shortlink.json",
			"charts/shortlink/dashboards/shortlink-visits.json": "config/prometheus/dashboards/shortlink-visits.json",
		} {
			a, errA := os.ReadFile(filepath.Join(root, chartFile))  //nolint:gosec // a file of this repository
			b, errB := os.ReadFile(filepath.Join(root, configFile)) //nolint:gosec // a file of this repository
			if errA != nil || errB != nil {
				t.Fatalf("read: %v %v", errA, errB)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs from %s: run `make chart-sync`", chartFile, configFile)
			}
		}
	})
	t.Run("PrometheusRule", func(t *testing.T) {
		k := render(t, kustomizeEvaluation).one(t, "PrometheusRule", "shortlink-alerts")
		h := render(t, helmAllOn).one(t, "PrometheusRule", "shortlink-alerts")
		if !reflect.DeepEqual(k.Object["spec"], h.Object["spec"]) {
			t.Errorf("config/prometheus/prometheus_rule.yaml and charts/shortlink/files/prometheus-rules.yaml differ: keep them the same")
		}
	})
}

// TestPgBouncerSizedForMaxReplicas: each PgBouncer accepts every connection the redirectors can
// open at their most (HPA maxReplicas plus the rolling-update surge), and PostgreSQL can take
// what the PgBouncers and the manager open.
func TestPgBouncerSizedForMaxReplicas(t *testing.T) {
	for _, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			var ini string
			for name, cm := range r.find("ConfigMap") {
				if strings.HasPrefix(name, "shortlink-pgbouncer") {
					ini, _, _ = unstructured.NestedString(cm.Object, "data", "pgbouncer.ini")
				}
			}
			if ini == "" {
				t.Fatal("no pgbouncer.ini")
			}
			if mode := iniValue(ini, "pool_mode"); mode != "transaction" {
				t.Errorf("pool_mode = %q, want transaction", mode)
			}
			maxReplicas, _, _ := unstructured.NestedInt64(r.one(t, "HorizontalPodAutoscaler", "shortlink-redirector").Object, "spec", "maxReplicas")
			surge, _, _ := unstructured.NestedString(r.component(t, "redirector").Object, "spec", "strategy", "rollingUpdate", "maxSurge")
			if surge != "25%" {
				t.Fatalf("redirector maxSurge %q: the sizing below assumes 25%%", surge)
			}
			pods := maxReplicas + (maxReplicas+3)/4
			redirector := containers(t, r.component(t, "redirector"))[0]
			perPod := atoi(t, redirector, "DATABASE_MAX_CONNS") + atoi(t, redirector, "STATS_MAX_CONNS")
			if envValue(redirector, "API") == "true" {
				perPod += atoi(t, redirector, "API_MAX_CONNS") // the create API's own pool
			}
			maxClient := iniInt(t, ini, "max_client_conn")
			if need := pods * perPod; maxClient < need {
				t.Errorf("max_client_conn %d < %d redirector pods x %d connections = %d", maxClient, pods, perPod, need)
			}
			pool, reserve, maxDB := iniInt(t, ini, "default_pool_size"), iniInt(t, ini, "reserve_pool_size"), iniInt(t, ini, "max_db_connections")
			if maxDB < pool+reserve {
				t.Errorf("max_db_connections %d < default_pool_size %d + reserve_pool_size %d", maxDB, pool, reserve)
			}
			bouncers, _, _ := unstructured.NestedInt64(r.component(t, "pgbouncer").Object, "spec", "replicas")
			// PostgreSQL's default max_connections (100) less its 3 superuser slots, less the
			// manager's pool (pool_max_conns=10) twice over during a rollout.
			if total := bouncers * maxDB; total > 97-20 {
				t.Errorf("%d PgBouncers x %d server connections = %d, more than PostgreSQL's 100 leave after the manager", bouncers, maxDB, total)
			}
		})
	}
}

// TestRedirectorStopsGracefully: the kubelet waits longer than the preStop pause plus the
// redirector's own shutdown bound, so a stopping pod flushes every counted visit.
func TestRedirectorStopsGracefully(t *testing.T) {
	for _, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			d := r.component(t, "redirector")
			c := containers(t, d)[0]
			grace, _, _ := unstructured.NestedInt64(d.Object, "spec", "template", "spec", "terminationGracePeriodSeconds")
			pause, _, _ := unstructured.NestedInt64(c, "lifecycle", "preStop", "sleep", "seconds")
			v := envValue(c, "SHUTDOWN_TIMEOUT")
			timeout, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
			if err != nil || pause == 0 {
				t.Fatalf("SHUTDOWN_TIMEOUT %q and preStop sleep %d must both be set", v, pause)
			}
			if grace <= pause+int64(timeout) {
				t.Errorf("terminationGracePeriodSeconds %d <= preStop %d + SHUTDOWN_TIMEOUT %d", grace, pause, timeout)
			}
		})
	}
}

// TestChartNamesFit renders the chart with the longest release name Helm allows: every name
// and label value stays within Kubernetes' 63 characters.
func TestChartNamesFit(t *testing.T) {
	long := strings.Repeat("r", 53)
	for _, o := range decode(t, helmTemplate(t, long, "-f", "charts/shortlink/ci/all-on-values.yaml")) {
		if o.GetKind() != "CustomResourceDefinition" && len(o.GetName()) > 63 {
			t.Errorf("%s %s: name longer than 63", o.GetKind(), o.GetName())
		}
		for k, v := range o.GetLabels() {
			if len(v) > 63 {
				t.Errorf("%s %s: label %s longer than 63", o.GetKind(), o.GetName(), k)
			}
		}
	}
}

// TestHelmLint lints the chart with its default values and with every option on.
func TestHelmLint(t *testing.T) {
	helm := tool(t, "HELM", "helm")
	run(t, helm, "lint", "--strict", "--kube-version", minKubeVersion, "charts/shortlink")
	run(t, helm, "lint", "--strict", "--kube-version", minKubeVersion, "charts/shortlink", "-f", "charts/shortlink/ci/all-on-values.yaml")
}

func atoi(t *testing.T, c map[string]any, name string) int64 {
	t.Helper()
	v := envValue(c, name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", name, v, err)
	}
	return n
}

func iniInt(t *testing.T, ini, key string) int64 {
	t.Helper()
	v := iniValue(ini, key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("pgbouncer.ini %s = %q: %v", key, v, err)
	}
	return n
}

// TestChartValuesDocumented: every value in values.yaml carries a "# --" comment (helm-docs
// style) right above it; only the maps that group values may go without.
func TestChartValuesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "charts", "shortlink", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	documented := false
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "# --"):
			documented = true
			continue
		case strings.HasPrefix(trimmed, "#"):
			continue // a continuation of the comment above, or a section note
		case trimmed == "" || strings.HasPrefix(trimmed, "-"):
			if trimmed == "" {
				documented = false
			}
			continue
		}
		key, rest, ok := strings.Cut(trimmed, ":")
		if !ok {
			continue
		}
		// A key with nothing after the colon groups the keys indented below it, unless what is
		// below is a list or a free-form map (a documented value).
		group := strings.TrimSpace(rest) == "" && !documented && i+1 < len(lines) &&
			!strings.HasPrefix(strings.TrimSpace(lines[i+1]), "-")
		if !documented && !group {
			t.Errorf("values.yaml:%d: %s has no \"# --\" comment", i+1, key)
		}
		if documented && strings.TrimSpace(rest) == "" {
			skipBlock(lines, i, len(line)-len(strings.TrimLeft(line, " ")))
		}
		documented = false
	}
}

// skipBlock blanks the lines indented under lines[i], the body of a documented map value.
func skipBlock(lines []string, i, indent int) {
	for j := i + 1; j < len(lines); j++ {
		l := lines[j]
		if strings.TrimSpace(l) != "" && len(l)-len(strings.TrimLeft(l, " ")) <= indent {
			return
		}
		lines[j] = ""
	}
}
