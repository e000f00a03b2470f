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
	"strings"
	"sync/atomic"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// TestGarbageCollectionReadsLiveOnlyWhatTheListMisses: of eleven declared rows, ten belong to
// ShortLinks the cache lists; the pass reads only the eleventh from the API server, and
// collects it alone.
func TestGarbageCollectionReadsLiveOnlyWhatTheListMisses(t *testing.T) {
	ns := newNamespace(t)
	install := "gc-list-" + ns
	for i := range 10 {
		sl := create(t, shortLink(ns, fmt.Sprintf("kept-%d", i), linksv1.ShortLinkSpec{Target: "https://example.com/"}))
		// Synced first: the reconciler releases other rows of the same UID when it first syncs.
		live := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
		insertDeclaredRow(t, fmt.Sprintf("kept-%d-%s", i, ns), ns+"/"+live.Name, string(live.UID), install)
	}
	insertDeclaredRow(t, "orphan-"+ns, ns+"/vanished", "uid-gone", install)

	live := &countingReader{Reader: k8s}
	gc := &GarbageCollector{Store: db, Cache: linkCache, Listed: startCache(t, ""), Live: live, InstallID: install, MaxDeletes: 100}
	if err := gc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := live.gets.Load(); n != 1 {
		t.Errorf("the pass read %d ShortLinks from the API server; want 1, the one the list lacks", n)
	}
	assertDeleted(t, map[string]bool{"orphan-" + ns: true, "kept-0-" + ns: false, "kept-9-" + ns: false})
}

// TestGarbageCollectionGoesOnPastAFailedRead: the API server refuses the live read of the
// first row's ShortLink; the pass keeps that row, still collects the next one, and reports
// the refusal.
func TestGarbageCollectionGoesOnPastAFailedRead(t *testing.T) {
	ns, hidden := newNamespace(t), newNamespace(t)
	install := "gc-fail-" + ns
	insertDeclaredRow(t, "a-unreadable-"+ns, hidden+"/vanished", "uid-a", install)
	insertDeclaredRow(t, "b-orphan-"+ns, ns+"/vanished", "uid-b", install)

	gc := &GarbageCollector{Store: db, Cache: linkCache, Listed: k8s, Live: readerOf(t, ns), InstallID: install, MaxDeletes: 100}
	err := gc.Run(context.Background())
	if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), hidden+"/vanished") {
		t.Errorf("pass error = %v; want the refused read of %s/vanished", err, hidden)
	}
	assertDeleted(t, map[string]bool{"a-unreadable-" + ns: false, "b-orphan-" + ns: true})
}

// countingReader is a live reader that counts its reads.
type countingReader struct {
	client.Reader
	gets atomic.Int32
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets.Add(1)
	return c.Reader.Get(ctx, key, obj, opts...)
}

// readerOf is a client of a user who may read ShortLinks in namespace ns and nowhere else.
func readerOf(t *testing.T, ns string) client.Client {
	t.Helper()
	ctx := context.Background()
	user, err := env.Kube.Env.AddUser(envtest.User{Name: "gc-reader-" + ns}, nil)
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "read-shortlinks"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{linksv1.GroupVersion.Group}, Resources: []string{"shortlinks"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "read-shortlinks"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "gc-reader-" + ns}}}
	for _, o := range []client.Object{role, binding} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(user.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reader's role to take effect", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nothing"}, &linksv1.ShortLink{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	return c
}

func insertDeclaredRow(t *testing.T, code, owner, uid, install string) {
	t.Helper()
	mustExec(t, `INSERT INTO urls (domain, code, target, source, owner, owner_uid, install_id, version, created_at)
		VALUES ('', $1, 'https://example.com/', 'k8s', $2, $3, $4, nextval('urls_version_seq'), now())`, code, owner, uid, install)
}

// assertDeleted checks which rows of the default domain are tombstones.
func assertDeleted(t *testing.T, want map[string]bool) {
	t.Helper()
	for code, wantDeleted := range want {
		r, ok := row(t, "", code)
		if !ok || r.Deleted != wantDeleted {
			t.Errorf("row %s: present %v, deleted %v; want deleted %v", code, ok, r.Deleted, wantDeleted)
		}
	}
}
