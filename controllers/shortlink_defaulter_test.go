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

package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// createFinalizerWebhookConfig registers w's finalizer webhook for creates of ns's ShortLinks,
// as config/webhook's MutatingWebhookConfiguration does for all.
func createFinalizerWebhookConfig(t *testing.T, w *testWebhook) {
	t.Helper()
	url := "https://" + w.addr + FinalizerWebhookPath
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "shortlink-test-mutating-" + w.ns},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "mshortlink.links.shortlink.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: w.ca},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](5),
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": w.ns},
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{linksv1.GroupVersion.Group}, APIVersions: []string{linksv1.GroupVersion.Version},
					Resources: []string{"shortlinks"},
				},
			}},
		}},
	}
	if err := k8s.Create(context.Background(), mwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), mwc) })
	// The API server learns new configurations a moment after they are created: a dry-run
	// create returns the object as admitted, finalizer and all, once it calls the webhook.
	waitFor(t, "the finalizer webhook called", func() (bool, string) {
		probe := shortLink(w.ns, "probe", linksv1.ShortLinkSpec{Target: "https://example.com/probe"})
		if err := k8s.Create(context.Background(), probe, client.DryRunAll); err != nil {
			return false, err.Error()
		}
		return slices.Contains(probe.Finalizers, finalizerName), fmt.Sprint(probe.Finalizers)
	})
}

// TestFinalizerWebhookSavesAWriteALink: with the finalizer webhook answering, a new ShortLink
// carries the operator's finalizer from its first read, beside one a user put there, and
// converges with one API write from the operator (the status) instead of two: the object
// changes exactly once between its creation and Ready.
func TestFinalizerWebhookSavesAWriteALink(t *testing.T) {
	ns := newNamespace(t)
	createFinalizerWebhookConfig(t, startWebhook(t, ns))
	ctx := context.Background()
	watcher, err := watchClient(t).Watch(ctx, &linksv1.ShortLinkList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()

	const links = 10
	for i := range links {
		sl := shortLink(ns, fmt.Sprintf("link-%d", i), linksv1.ShortLinkSpec{Target: linksv1.TargetURL(fmt.Sprintf("https://example.com/%d", i))})
		if i == 0 {
			sl.Finalizers = []string{"example.com/keep"}
		}
		create(t, sl)
		var first linksv1.ShortLink
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sl), &first); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(first.Finalizers, finalizerName) || (i == 0 && !slices.Contains(first.Finalizers, "example.com/keep")) {
			t.Errorf("%s first read has finalizers %q; want %q (and a user's kept)", sl.Name, first.Finalizers, finalizerName)
		}
	}
	if changes := changesUntilReady(t, watcher, links); !slices.Equal(changes, slices.Repeat([]int{1}, links)) {
		t.Errorf("changes to each link between create and Ready = %v; want one each (the status)", changes)
	}
}

// changesUntilReady reads the watch until n links are Ready=True and returns, for each link
// in name order, how many times it was modified by then.
func changesUntilReady(t *testing.T, w watch.Interface, n int) []int {
	t.Helper()
	modified, ready := map[string]int{}, map[string]bool{}
	deadline := time.After(eventually)
	for len(ready) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			sl, isLink := ev.Object.(*linksv1.ShortLink)
			if !isLink {
				continue
			}
			if ev.Type == watch.Modified {
				modified[sl.Name]++
			}
			if meta.IsStatusConditionTrue(sl.Status.Conditions, linksv1.ConditionReady) {
				ready[sl.Name] = true
			}
		case <-deadline:
			t.Fatalf("%d of %d links Ready after %s", len(ready), n, eventually)
		}
	}
	counts := make([]int, 0, n)
	for i := range n {
		counts = append(counts, modified[fmt.Sprintf("link-%d", i)])
	}
	return counts
}

func watchClient(t *testing.T) client.WithWatch {
	t.Helper()
	c, err := client.NewWithWatch(env.Kube.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
