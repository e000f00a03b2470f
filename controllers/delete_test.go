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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// Deleting a ShortLink while Redis is down lets the object go once its row is a tombstone:
// the change feed carries the tombstone to Redis later (internal/redirect heals it), so the
// finalizer does not wait for Redis.
func TestDeletionDoesNotWaitForRedis(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "gone-without-redis", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	held, _ := row(t, "", "gone-without-redis")

	startRedis := localenv.StopForTest(t, env.Redis)
	if err := k8s.Delete(context.Background(), sl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ShortLink to go while Redis is down", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sl), &linksv1.ShortLink{})
		return client.IgnoreNotFound(err) == nil && err != nil, "still there (finalizer waiting for Redis?)"
	})
	if r, ok := row(t, "", "gone-without-redis"); !ok || !r.Deleted || r.Version <= held.Version {
		t.Fatalf("row after delete = %+v, %v; want a tombstone newer than %d", r, ok, held.Version)
	}
	startRedis()
}
