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
	"strconv"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// claimIndex indexes ShortLinks by a bucket of the (domain, code) they claim (claimBucket),
// to find rival claimants: claimants narrows a bucket to one claim.
const claimIndex = "links.shortlink.dev/claim"

// claimBuckets is how many values claimIndex spreads the claims over. Indexed by the claim
// itself, nearly every ShortLink had a value of its own, and the informer keeps a set for each
// value (twice: the cluster's and the namespace's): a third of the cache's index memory at
// 100,000 links (docs/benchmarks.md). Shared buckets keep a few thousand sets at any size;
// a lookup then reads a bucket's ShortLinks (some 25 at 100,000) instead of one.
const claimBuckets = 4096

// claimBucket is c's value in claimIndex: an FNV-1a hash of its key, modulo claimBuckets.
func claimBucket(c claim) string {
	h := uint32(2166136261)
	for _, s := range []string{c.domain, "/", c.code} {
		for i := range len(s) {
			h = (h ^ uint32(s[i])) * 16777619
		}
	}
	return strconv.FormatUint(uint64(h%claimBuckets), 16)
}

// SetupWithManager registers the index, the watches and the reconciler. policyChanged
// receives an event whenever the URL policy changes, so every link is checked again.
func (r *ShortLinkReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, maxConcurrent int, policyChanged <-chan event.GenericEvent) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &linksv1.ShortLink{}, claimIndex, func(o client.Object) []string {
		return []string{claimBucket(r.claimOf(o.(*linksv1.ShortLink)))}
	})
	if err != nil {
		return err
	}
	if err := indexDomains(ctx, mgr, r.Installation.Site); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&linksv1.ShortLink{}, builder.WithPredicates(specChangedOrResync())).
		// A change to one claimant (a holder deleted, a takeover) may change the outcome for the
		// others: requeue them at once, so a takeover waits for no resync.
		Watches(&linksv1.ShortLink{}, r.rivalClaimants()).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrent}).
		Named("shortlink")
	b = r.watchDomainRules(b)
	if policyChanged != nil {
		b = b.WatchesRawSource(source.Channel(policyChanged, r.everyShortLink()))
	}
	return b.Complete(r)
}

// specChangedOrResync lets through what may need work: a new generation (spec or deletion),
// and the periodic resync (same resourceVersion), which repairs drift. Status-only updates —
// our own patches and the visits rollup — are ignored.
func specChangedOrResync() predicate.Predicate {
	resync := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetResourceVersion() == e.ObjectNew.GetResourceVersion()
	}}
	return predicate.Or(predicate.GenerationChangedPredicate{}, resync)
}

// rivalClaimants maps an event on one ShortLink to the other ShortLinks claiming the same
// (domain, code), before and after the change.
func (r *ShortLinkReconciler) rivalClaimants() handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, o := range objs {
			sl, ok := o.(*linksv1.ShortLink)
			if !ok {
				continue
			}
			for _, req := range r.rivalsOf(ctx, sl) {
				q.Add(req)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() || conditionsChanged(e) {
				enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}

// conditionsChanged is true when a claimant's Ready changed: it may have just taken a code
// over from a rival that does not know yet.
func conditionsChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*linksv1.ShortLink)
	n, ok2 := e.ObjectNew.(*linksv1.ShortLink)
	return ok1 && ok2 && readyReason(o) != readyReason(n)
}

func readyReason(sl *linksv1.ShortLink) string {
	for _, c := range sl.Status.Conditions {
		if c.Type == linksv1.ConditionReady {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

func (r *ShortLinkReconciler) rivalsOf(ctx context.Context, sl *linksv1.ShortLink) []reconcile.Request {
	rivals, err := r.claimants(ctx, r.claimOf(sl))
	if err != nil {
		logf.FromContext(ctx).Error(err, "List rival claimants")
		return nil
	}
	var reqs []reconcile.Request
	for i := range rivals {
		if rivals[i].UID != sl.UID {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{
				Namespace: rivals[i].Namespace, Name: rivals[i].Name}})
		}
	}
	return reqs
}

// everyShortLink maps a policy change to every ShortLink.
func (r *ShortLinkReconciler) everyShortLink() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var list linksv1.ShortLinkList
		if err := r.List(ctx, &list); err != nil {
			logf.FromContext(ctx).Error(err, "List ShortLinks after a policy change")
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for i := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return reqs
	})
}
