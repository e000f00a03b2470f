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
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// domainValues lists two domains, one narrowed, as an admin would.
const domainValues = `shortLinkDomains=[
 {"host": "go.example.com", "allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "a"}}},
  "codeRules": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "prefix": "a-"}],
  "rootRedirect": "https://intranet.example.com/", "robotsTxt": "User-agent: *\nDisallow: /\n"},
 {"name": "docs", "host": "docs.example.com"}]`

// The chart renders no ShortLinkDomain unless told to, and renders the listed ones so that the
// API server accepts them; kustomize's config/domains too. The Ingress routes their hosts.
func TestDomainObjectsFromChartAndKustomize(t *testing.T) {
	if n := len(kindOf(render(t, helmDefault).objs, "ShortLinkDomain")); n != 0 {
		t.Fatalf("the default chart renders %d ShortLinkDomains, want none", n)
	}
	chart := decode(t, helmTemplate(t, release, "--set-json", domainValues, "--set", "redirector.ingress.enabled=true"))
	domains := kindOf(chart, "ShortLinkDomain")
	if len(domains) != 2 || domains[0].GetName() != "go.example.com" || domains[1].GetName() != "docs" {
		t.Fatalf("chart ShortLinkDomains = %v, want go.example.com and docs", names(domains))
	}
	ingress := kindOf(chart, "Ingress")
	rules, _, _ := unstructured.NestedSlice(ingress[0].Object, "spec", "rules")
	hosts := make([]string, 0, len(rules))
	for _, r := range rules {
		hosts = append(hosts, r.(map[string]any)["host"].(string))
	}
	for _, h := range []string{"go.example.com", "docs.example.com"} {
		if !slices.Contains(hosts, h) {
			t.Errorf("Ingress hosts %v lack %s", hosts, h)
		}
	}

	kustomized := decode(t, run(t, tool(t, "KUSTOMIZE", "kustomize"), "build", "config/domains"))
	env := platform(t)
	d := newDryRunner(t, env.Kube.Config)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, obj := range append(domains, kindOf(kustomized, "ShortLinkDomain")...) {
		warns, err := d.apply(ctx, obj, namespace)
		if err != nil {
			t.Errorf("ShortLinkDomain %s refused: %v", obj.GetName(), err)
		}
		for _, w := range warns {
			t.Errorf("ShortLinkDomain %s drew a warning: %s", obj.GetName(), w)
		}
	}
}

func kindOf(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func names(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}
