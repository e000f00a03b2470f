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
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
)

// warnings collects the Warning headers the API server sends. The PodSecurity admission plugin
// refuses a non-compliant Pod but only warns about a Deployment's pod template, so a warning is
// how a manifest that would never start a pod shows itself.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// dryRunner applies objects with server-side apply and dryRun=All, refusing unknown fields.
type dryRunner struct {
	dyn      dynamic.Interface
	mapper   meta.RESTMapper
	warnings *warnings
}

func newDryRunner(t *testing.T, cfg *rest.Config) *dryRunner {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	w := &warnings{}
	cfg.WarningHandler = w
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &dryRunner{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), warnings: w}
}

// apply dry-runs one object; it returns the API server's warnings and its refusal, if any.
func (d *dryRunner) apply(ctx context.Context, obj *unstructured.Unstructured, defaultNS string) ([]string, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return d.warnings.take(), fmt.Errorf("no API for %s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = d.dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = defaultNS
		}
		ri = d.dyn.Resource(mapping.Resource).Namespace(ns)
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager:    "shortlink-test-manifests",
		Force:           ptr.To(true),
		DryRun:          []string{metav1.DryRunAll},
		FieldValidation: metav1.FieldValidationStrict,
	})
	return d.warnings.take(), err
}

// restrictedNamespace creates a namespace that enforces the restricted Pod Security Standard.
func restrictedNamespace(t *testing.T, cfg *rest.Config, name string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// TestServerSideDryRun applies every object of every rendering, and the samples, to a real
// kube-apiserver with the CRDs installed: no object may be refused, and none may draw a warning
// (PodSecurity, deprecated APIs, unknown fields).
func TestServerSideDryRun(t *testing.T) {
	env := platform(t)
	restrictedNamespace(t, env.Kube.Config, namespace)
	restrictedNamespace(t, env.Kube.Config, "team-a")
	d := newDryRunner(t, env.Kube.Config)
	samples := &rendering{name: "kustomize config/samples",
		objs: decode(t, run(t, tool(t, "KUSTOMIZE", "kustomize"), "build", "config/samples"))}
	for _, r := range append(allRenderings(t), samples) {
		t.Run(r.name, func(t *testing.T) {
			ns := namespace
			if r == samples {
				ns = "team-a"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for _, obj := range r.objs {
				warns, err := d.apply(ctx, obj, ns)
				if err != nil {
					t.Errorf("%s %s refused: %v", obj.GetKind(), obj.GetName(), err)
				}
				for _, w := range warns {
					t.Errorf("%s %s drew a warning: %s", obj.GetKind(), obj.GetName(), w)
				}
			}
			t.Logf("%d objects applied (dry run) without refusal or warning", len(r.objs))
		})
	}
}

// TestDryRunSeesPodSecurityWarnings proves the check above can fail: a Deployment whose pods
// would break the restricted standard is accepted, with a warning, and the warning is caught.
func TestDryRunSeesPodSecurityWarnings(t *testing.T) {
	env := platform(t)
	restrictedNamespace(t, env.Kube.Config, namespace)
	d := newDryRunner(t, env.Kube.Config)
	bad := decode(t, []byte(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: not-restricted
  namespace: `+namespace+`
spec:
  selector:
    matchLabels: {app: not-restricted}
  template:
    metadata:
      labels: {app: not-restricted}
    spec:
      containers:
      - name: c
        image: example.com/c:1
`))[0]
	warns, err := d.apply(context.Background(), bad, namespace)
	if err != nil {
		t.Fatalf("the API server refused the Deployment (only its pods are refused): %v", err)
	}
	if !strings.Contains(strings.Join(warns, "\n"), "PodSecurity") {
		t.Fatalf("no PodSecurity warning for a non-compliant pod template; warnings: %q", warns)
	}
}
