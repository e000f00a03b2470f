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
	"bufio"
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// rendering is one way of installing the platform, rendered to objects.
type rendering struct {
	name string
	objs []*unstructured.Unstructured
}

// renderings, by name: kustomize's two entry points and the chart with default and all-on values.
const (
	kustomizeDefault    = "kustomize config/default"
	kustomizeEvaluation = "kustomize config/evaluation"
	helmDefault         = "helm default values"
	helmAllOn           = "helm ci/all-on-values.yaml"
)

// pairs are renderings that must agree: production shapes, then evaluation shapes.
var pairs = [][2]string{{kustomizeDefault, helmDefault}, {kustomizeEvaluation, helmAllOn}}

var renders struct {
	sync.Mutex
	done map[string]*rendering
}

// render renders once per test binary and hands out the same objects; tests must not change them.
func render(t *testing.T, name string) *rendering {
	t.Helper()
	renders.Lock()
	defer renders.Unlock()
	if r, ok := renders.done[name]; ok {
		return r
	}
	var out []byte
	switch name {
	case kustomizeDefault:
		out = run(t, tool(t, "KUSTOMIZE", "kustomize"), "build", "config/default")
	case kustomizeEvaluation:
		out = run(t, tool(t, "KUSTOMIZE", "kustomize"), "build", "config/evaluation")
	case helmDefault:
		out = helmTemplate(t, release)
	case helmAllOn:
		out = helmTemplate(t, release, "-f", "charts/shortlink/ci/all-on-values.yaml")
	default:
		t.Fatalf("unknown rendering %q", name)
	}
	r := &rendering{name: name, objs: decode(t, out)}
	if renders.done == nil {
		renders.done = map[string]*rendering{}
	}
	renders.done[name] = r
	return r
}

func allRenderings(t *testing.T) []*rendering {
	t.Helper()
	rs := make([]*rendering, 0, 4)
	for _, n := range []string{kustomizeDefault, kustomizeEvaluation, helmDefault, helmAllOn} {
		rs = append(rs, render(t, n))
	}
	return rs
}

func helmTemplate(t testing.TB, releaseName string, args ...string) []byte {
	t.Helper()
	all := append([]string{"template", releaseName, "charts/shortlink", "--namespace", namespace,
		"--kube-version", minKubeVersion}, args...)
	return run(t, tool(t, "HELM", "helm"), all...)
}

// decode reads a multi-document YAML stream; empty documents are dropped. Numbers become
// int64 or float64 as in objects read from the API server.
func decode(t testing.TB, data []byte) []*unstructured.Unstructured {
	t.Helper()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read rendered YAML: %v", err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "{}" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(js); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

// find returns the objects of a kind, by name.
func (r *rendering) find(kind string) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range r.objs {
		if o.GetKind() == kind {
			out[o.GetName()] = o
		}
	}
	return out
}

// one returns the object of a kind and name, failing the test if it is missing.
func (r *rendering) one(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o, ok := r.find(kind)[name]
	if !ok {
		t.Fatalf("%s: no %s %s", r.name, kind, name)
	}
	return o
}

// component returns the Deployment of a component (label app.kubernetes.io/component).
func (r *rendering) component(t *testing.T, c string) *unstructured.Unstructured {
	t.Helper()
	for _, d := range r.find("Deployment") {
		if d.GetLabels()["app.kubernetes.io/component"] == c {
			return d
		}
	}
	t.Fatalf("%s: no Deployment of component %s", r.name, c)
	return nil
}

// keys lists the kind/name of every object, sorted.
func (r *rendering) keys() []string {
	ks := make([]string, 0, len(r.objs))
	for _, o := range r.objs {
		ks = append(ks, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(ks)
	return ks
}

// containers returns a Deployment's containers.
func containers(t *testing.T, d *unstructured.Unstructured) []map[string]any {
	t.Helper()
	list, _, err := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if err != nil || len(list) == 0 {
		t.Fatalf("%s: no containers (%v)", d.GetName(), err)
	}
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		out = append(out, c.(map[string]any))
	}
	return out
}

// envValue returns the literal value of a container's environment variable, or "".
func envValue(c map[string]any, name string) string {
	env, _ := c["env"].([]any)
	for _, e := range env {
		m := e.(map[string]any)
		if m["name"] == name {
			v, _ := m["value"].(string)
			return v
		}
	}
	return ""
}

// iniValue reads "key = value" from an ini text, or "".
func iniValue(ini, key string) string {
	for line := range strings.SplitSeq(ini, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
