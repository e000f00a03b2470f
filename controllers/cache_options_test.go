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
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// TestCacheHoldsTrimmedShortLinks: a ShortLink with a large annotation, labels and managed
// fields is synced by the suite's manager (whose cache trims it), the informer cache the manager
// is built with holds none of them, and the API server still has them all after the
// reconciler's finalizer and status patches.
func TestCacheHoldsTrimmedShortLinks(t *testing.T) {
	ns := newNamespace(t)
	big := strings.Repeat("x", 200<<10)
	sl := shortLink(ns, "annotated", linksv1.ShortLinkSpec{Target: "https://example.com/"})
	sl.Annotations = map[string]string{"example.com/big": big}
	sl.Labels = map[string]string{"team": "growth"}
	create(t, sl)
	live := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if live.Annotations["example.com/big"] != big || live.Labels["team"] != "growth" || len(live.ManagedFields) == 0 {
		t.Fatalf("the API server lost metadata: %d annotation bytes, labels %v, %d managed fields",
			len(live.Annotations["example.com/big"]), live.Labels, len(live.ManagedFields))
	}

	cached := cachedShortLink(t, client.ObjectKeyFromObject(sl))
	if len(cached.Annotations) != 0 || len(cached.Labels) != 0 || len(cached.ManagedFields) != 0 {
		t.Errorf("cache holds %d annotations, %d labels, %d managed fields; want none",
			len(cached.Annotations), len(cached.Labels), len(cached.ManagedFields))
	}
	if cached.UID != live.UID || cached.Generation != live.Generation || !cached.CreationTimestamp.Equal(&live.CreationTimestamp) ||
		!controllerutil.ContainsFinalizer(cached, finalizerName) || cached.Spec.Target != live.Spec.Target ||
		cached.Status.Code != live.Status.Code {
		t.Errorf("cache lost what the operator reads:\ncached %+v\nlive   %+v", cached, live)
	}
}

// cachedShortLink reads key through an informer cache built with the manager's CacheOptions,
// once it holds the reconciled object (finalizer and Ready).
func cachedShortLink(t *testing.T, key client.ObjectKey) *linksv1.ShortLink {
	t.Helper()
	c := startCache(t, key.Namespace)
	var got linksv1.ShortLink
	waitFor(t, "the cache to hold "+key.String(), func() (bool, string) {
		if err := c.Get(context.Background(), key, &got); err != nil {
			return false, err.Error()
		}
		ready := condition(&got, linksv1.ConditionReady)
		return ready != nil && controllerutil.ContainsFinalizer(&got, finalizerName), "not reconciled yet"
	})
	return &got
}

// startCache starts an informer cache built with the manager's CacheOptions, watching
// namespace or, when empty, all of them, until the test ends.
func startCache(t *testing.T, namespace string) crcache.Cache {
	t.Helper()
	opts := CacheOptions(time.Hour)
	opts.Scheme = scheme
	if namespace != "" {
		opts.DefaultNamespaces = map[string]crcache.Config{namespace: {}}
	}
	c, err := crcache.New(env.Kube.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if !c.WaitForCacheSync(ctx) { // started: a read before would fail rather than wait
		t.Fatal("the informer cache did not start")
	}
	return c
}

// TestCacheSharesCommonStrings: two ShortLinks synced by the suite's manager share, in its
// cache, one copy of their finalizer and conditions' type, status and reason, and
// a status.code equal to the name is the name's own string; the values are those on the API
// server.
func TestCacheSharesCommonStrings(t *testing.T) {
	ns := newNamespace(t)
	var cached [2]*linksv1.ShortLink
	for i, name := range []string{"shared-a", "shared-b"} {
		sl := create(t, shortLink(ns, name, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
		live := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
		cached[i] = waitCachedLike(t, live)
	}
	a, b := cached[0], cached[1]
	same := func(what, x, y string) {
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) { //nolint:gosec // compares where two strings live, reads nothing
			t.Errorf("%s: %q and %q are two copies, want one", what, x, y)
		}
	}
	same("finalizer", a.Finalizers[0], b.Finalizers[0])
	for _, typ := range []string{linksv1.ConditionReady, linksv1.ConditionCached} {
		ca, cb := condition(a, typ), condition(b, typ)
		same(typ+" type", ca.Type, cb.Type)
		same(typ+" status", string(ca.Status), string(cb.Status))
		same(typ+" reason", ca.Reason, cb.Reason)
	}
	for _, sl := range cached {
		same("status.code and name", sl.Status.Code, sl.Name)
	}
}

// waitCachedLike reads live's ShortLink from the suite manager's cache (a copy, whose strings
// are the cache's own) once the cache holds live's resourceVersion.
func waitCachedLike(t *testing.T, live *linksv1.ShortLink) *linksv1.ShortLink {
	t.Helper()
	var got linksv1.ShortLink
	waitFor(t, "the manager's cache to hold "+live.Name, func() (bool, string) {
		if err := managerClient.Get(context.Background(), client.ObjectKeyFromObject(live), &got); err != nil {
			return false, err.Error()
		}
		return got.ResourceVersion == live.ResourceVersion, "an older version"
	})
	if !reflect.DeepEqual(got.Status, live.Status) || !reflect.DeepEqual(got.Finalizers, live.Finalizers) || got.Namespace != live.Namespace {
		t.Fatalf("the cache's values differ from the API server's:\ncached %+v\nlive   %+v", got.Status, live.Status)
	}
	return &got
}
