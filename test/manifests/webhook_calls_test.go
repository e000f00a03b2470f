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
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// reviewCounter answers every admission review with "allowed" and counts them by path and
// operation ("/validate… CREATE").
type reviewCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *reviewCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var review struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Request    struct {
			UID       string `json:"uid"`
			Operation string `json:"operation"`
		} `json:"request"`
	}
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.calls[r.URL.Path+" "+review.Request.Operation]++
	c.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": review.APIVersion, "kind": review.Kind,
		"response": map[string]any{"uid": review.Request.UID, "allowed": true}})
}

func (c *reviewCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

// TestWebhookConfigurationsCallWhatTheyMust installs each rendering's two webhook
// configurations on a real API server, pointed at a server that counts the reviews: a create
// calls both webhooks; an update of labels or annotations (as the operator's finalizer update
// is) calls neither, as matchConditions say; a spec update calls the validating one only.
// Calls are counted as at least one: a CI run saw a spec update call the validating webhook
// twice, the API server retrying its write, so the exact count is the API server's business.
func TestWebhookConfigurationsCallWhatTheyMust(t *testing.T) {
	env := platform(t)
	for i, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			ns := fmt.Sprintf("webhook-calls-%d", i)
			counter := &reviewCounter{calls: map[string]int{}}
			srv := httptest.NewTLSServer(counter)
			defer srv.Close()
			dyn, err := dynamic.NewForConfig(env.Kube.Config)
			if err != nil {
				t.Fatal(err)
			}
			kube := kubernetes.NewForConfigOrDie(env.Kube.Config)
			if _, err := kube.CoreV1().Namespaces().Create(context.Background(),
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
			installWebhookConfig(t, dyn, r.one(t, "ValidatingWebhookConfiguration", "shortlink-validating-webhook"), ns, srv.URL, ca)
			installWebhookConfig(t, dyn, r.one(t, "MutatingWebhookConfiguration", "shortlink-mutating-webhook"), ns, srv.URL, ca)
			checkWebhookCalls(t, dyn, counter, ns)
		})
	}
}

// checkWebhookCalls creates a ShortLink in ns, then updates its metadata and its spec, and
// checks which webhooks the API server called for each.
func checkWebhookCalls(t *testing.T, dyn dynamic.Interface, counter *reviewCounter, ns string) {
	t.Helper()
	const validate, mutate = "/validate-links-shortlink-dev-v1alpha1-shortlink", "/mutate-links-shortlink-dev-v1alpha1-shortlink"
	links := dyn.Resource(schema.GroupVersionResource{Group: "links.shortlink.dev", Version: "v1alpha1", Resource: "shortlinks"}).Namespace(ns)
	ctx := context.Background()
	// The API server learns new configurations a moment after they are created.
	deadline := time.Now().Add(time.Minute)
	for counter.count(validate+" CREATE") == 0 || counter.count(mutate+" CREATE") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the API server never called both webhooks on a create: %v", counter.calls)
		}
		probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "links.shortlink.dev/v1alpha1", "kind": "ShortLink",
			"metadata": map[string]any{"name": "probe"}, "spec": map[string]any{"target": "https://example.com/"}}}
		if _, err := links.Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	link := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "links.shortlink.dev/v1alpha1", "kind": "ShortLink",
		"metadata": map[string]any{"name": "counted"}, "spec": map[string]any{"target": "https://example.com/"}}}
	validating, mutating := counter.count(validate+" CREATE"), counter.count(mutate+" CREATE")
	if _, err := links.Create(ctx, link, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// At least once, not exactly: the API server calls a webhook again when it retries a
	// write, as on a conflict with its own cache of the object under load.
	if v, m := counter.count(validate+" CREATE")-validating, counter.count(mutate+" CREATE")-mutating; v < 1 || m < 1 {
		t.Errorf("a create called the validating webhook %d times and the mutating one %d; want both", v, m)
	}
	patch := func(what, body string) {
		t.Helper()
		if _, err := links.Patch(ctx, "counted", types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	patch("labels", `{"metadata":{"labels":{"campaign":"spring"},"annotations":{"note":"x"}}}`)
	patch("finalizer", `{"metadata":{"finalizers":["links.shortlink.dev/finalizer"]}}`)
	if n := counter.count(validate + " UPDATE"); n != 0 {
		t.Errorf("updates of metadata alone called the validating webhook %d times; want none (matchConditions)", n)
	}
	patch("target", `{"spec":{"target":"https://example.com/changed"}}`)
	if n := counter.count(validate + " UPDATE"); n < 1 {
		t.Errorf("a spec update called the validating webhook %d times; want at least one", n)
	}
	if n := counter.count(mutate + " UPDATE"); n != 0 {
		t.Errorf("updates called the mutating webhook %d times; want none (CREATE only)", n)
	}
	patch("finalizer off", `{"metadata":{"finalizers":null}}`)
}

// installWebhookConfig creates a copy of a rendered webhook configuration that calls url (the
// path kept) with caBundle ca, for ns's ShortLinks only, and deletes it when the test ends.
func installWebhookConfig(t *testing.T, dyn dynamic.Interface, rendered *unstructured.Unstructured, ns, url string, ca []byte) {
	t.Helper()
	obj := rendered.DeepCopy()
	obj.SetName(obj.GetName() + "-" + ns)
	hooks, _, _ := unstructured.NestedSlice(obj.Object, "webhooks")
	for i := range hooks {
		h := hooks[i].(map[string]any)
		path, _, _ := unstructured.NestedString(h, "clientConfig", "service", "path")
		h["clientConfig"] = map[string]any{"url": strings.TrimSuffix(url, "/") + path, "caBundle": base64.StdEncoding.EncodeToString(ca)}
		h["namespaceSelector"] = map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}}
	}
	if err := unstructured.SetNestedSlice(obj.Object, hooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1",
		Resource: strings.ToLower(obj.GetKind()) + "s"}
	if _, err := dyn.Resource(gvr).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dyn.Resource(gvr).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{}) })
}
