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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/runtime"
)

// query is one PromQL expression of the monitoring objects, and where it comes from.
type query struct {
	where, expr string
}

// monitoringQueries gathers every PromQL expression of the alerting rules and the dashboard.
func monitoringQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	for _, rule := range prometheusRules(t) {
		qs = append(qs, query{where: "alert " + rule.Alert + rule.Record, expr: rule.Expr.String()})
	}
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "prometheus", "dashboards", "shortlink.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	panelQueries(dash, &qs)
	vars, _ := dash["templating"].(map[string]any)["list"].([]any)
	for _, v := range vars {
		m := v.(map[string]any)
		q, _ := m["query"].(map[string]any)
		if s, _ := q["query"].(string); s != "" {
			// label_values(<selector>, <label>) is Grafana's, not PromQL; its selector is.
			if sel := labelValuesRE.FindStringSubmatch(s); sel != nil {
				s = sel[1]
			}
			qs = append(qs, query{where: fmt.Sprintf("dashboard variable %v", m["name"]), expr: s})
		}
	}
	if len(qs) < 10 {
		t.Fatalf("only %d queries found: the rule or dashboard layout changed", len(qs))
	}
	return qs
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

func panelQueries(node map[string]any, qs *[]query) {
	panels, _ := node["panels"].([]any)
	for _, p := range panels {
		panel := p.(map[string]any)
		targets, _ := panel["targets"].([]any)
		for _, tg := range targets {
			if expr, _ := tg.(map[string]any)["expr"].(string); expr != "" {
				*qs = append(*qs, query{where: fmt.Sprintf("dashboard panel %q", panel["title"]), expr: expr})
			}
		}
		panelQueries(panel, qs) // rows hold panels
	}
}

// prometheusRules reads the PrometheusRule of config/evaluation into the operator's own types,
// so a misplaced or misspelt field fails here as it would in the operator.
func prometheusRules(t *testing.T) []monitoringv1.Rule {
	t.Helper()
	var pr monitoringv1.PrometheusRule
	obj := render(t, kustomizeEvaluation).one(t, "PrometheusRule", "shortlink-alerts")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, &pr, true); err != nil {
		t.Fatalf("PrometheusRule: %v", err)
	}
	var rules []monitoringv1.Rule
	for _, g := range pr.Spec.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// grafanaVars replaces Grafana's variables with what they stand for at query time.
var grafanaVars = regexp.MustCompile(`\$\{?(\w+)\}?`)

func promQL(expr string) string {
	return grafanaVars.ReplaceAllStringFunc(expr, func(v string) string {
		if strings.HasPrefix(strings.Trim(v, "${}"), "__") { // $__rate_interval, $__interval, $__range
			return "5m"
		}
		return ".*" // template variables are label matcher values
	})
}

// metricNames parses a query and returns the metric names it selects.
func metricNames(expr string) ([]string, error) {
	ast, err := parser.NewParser(parser.Options{}).ParseExpr(promQL(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}

// TestMonitoringQueriesParse: every alert and dashboard query is valid PromQL and selects a
// Shortlink metric by name; every alert's annotations are valid templates.
func TestMonitoringQueriesParse(t *testing.T) {
	for _, q := range monitoringQueries(t) {
		names, err := metricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		if len(names) == 0 {
			t.Errorf("%s selects no metric: %s", q.where, q.expr)
		}
		for _, n := range names {
			if n == "" {
				t.Errorf("%s selects series without a metric name: %s", q.where, q.expr)
			}
		}
	}
	// The functions Prometheus gives alert templates; only parsing is checked here.
	funcs := template.FuncMap{}
	for _, f := range []string{"humanize", "humanizePercentage", "humanizeDuration", "humanize1024", "humanizeTimestamp", "title", "toUpper", "toLower", "reReplaceAll", "query", "first", "value", "label"} {
		funcs[f] = func(...any) string { return "" }
	}
	for _, rule := range prometheusRules(t) {
		if rule.Alert == "" {
			continue
		}
		if rule.Annotations["summary"] == "" || rule.Annotations["description"] == "" {
			t.Errorf("alert %s needs a summary and a description", rule.Alert)
		}
		if rule.Labels["severity"] == "" {
			t.Errorf("alert %s has no severity label", rule.Alert)
		}
		for k, v := range rule.Annotations {
			tmpl := "{{ $value := 0 }}{{ $labels := .Labels }}" + v
			if _, err := template.New(k).Funcs(funcs).Parse(tmpl); err != nil {
				t.Errorf("alert %s annotation %s: %v", rule.Alert, k, err)
			}
		}
	}
}

// usedMetrics maps each metric name the monitoring objects select to where they select it.
func usedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	for _, q := range monitoringQueries(t) {
		names, err := metricNames(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		for _, n := range names {
			used[n] = append(used[n], q.where)
		}
	}
	return used
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
