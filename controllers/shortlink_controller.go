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
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// ShortLinkReconciler syncs every declared ShortLink into PostgreSQL and Redis.
type ShortLinkReconciler struct {
	client.Client
	Store        LinkStore
	Cache        LinkCache
	Policy       *PolicySource
	Recorder     events.EventRecorder
	Installation Installation
	States       *LinkStates
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinks,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinks/status,verbs=get;patch
// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinks/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile converges PostgreSQL, Redis and the status to what one ShortLink declares.
func (r *ShortLinkReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sl linksv1.ShortLink
	if err := r.Get(ctx, req.NamespacedName, &sl); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.States.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sl.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, &sl)
	}
	if !controllerutil.ContainsFinalizer(&sl, finalizerName) {
		orig := sl.DeepCopy()
		controllerutil.AddFinalizer(&sl, finalizerName)
		if err := r.Patch(ctx, &sl, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	orig := sl.DeepCopy()
	result, err := r.reconcileNormal(ctx, &sl)
	setProgress(&sl)
	r.States.Record(&sl)
	if perr := r.patchStatus(ctx, orig, &sl); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	return result, err
}

// reconcileDelete removes what this ShortLink holds, then lets the object go. It waits for
// the tombstone in PostgreSQL only: Redis and the redirectors are told at once when they
// answer, and otherwise learn it from the change feed, whose readers heal Redis until it
// agrees (see internal/redirect), so a Redis outage does not hold deletions.
func (r *ShortLinkReconciler) reconcileDelete(ctx context.Context, sl *linksv1.ShortLink) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(sl, finalizerName) {
		return ctrl.Result{}, nil
	}
	if err := r.release(ctx, sl, r.claimOf(sl)); isCacheError(err) {
		logf.FromContext(ctx).Info("Row tombstoned; Redis not told, the change feed will", "error", err.Error())
	} else if err != nil {
		return ctrl.Result{}, err
	}
	orig := sl.DeepCopy()
	controllerutil.RemoveFinalizer(sl, finalizerName)
	if err := r.Patch(ctx, sl, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	r.States.Forget(client.ObjectKeyFromObject(sl))
	return ctrl.Result{}, nil
}

// reconcileNormal writes the link where the holder rule allows it and sets the conditions.
func (r *ShortLinkReconciler) reconcileNormal(ctx context.Context, sl *linksv1.ShortLink) (ctrl.Result, error) {
	claim := r.claimOf(sl)
	sl.Status.Code = claim.code
	sl.Status.URL = r.shortURL(claim)
	// Whatever the outcome below (synced, refused, in conflict), a row held under an earlier
	// spec.domain is no longer claimed: left live, the old short URL would redirect forever.
	if sl.Status.ObservedGeneration != sl.Generation {
		err := r.releaseOtherClaims(ctx, sl, claim)
		if store.IsUnavailable(err) {
			return r.databaseUnavailable(ctx, sl, err), nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	link, err := r.desiredLink(ctx, sl, claim)
	if isLookupError(err) {
		return ctrl.Result{}, err
	}
	if err != nil {
		return r.refuse(ctx, sl, claim, err)
	}
	version, changed, err := r.syncRow(ctx, sl, link)
	var conflict *store.ConflictError
	switch {
	case errors.As(err, &conflict):
		r.setReady(sl, metav1.ConditionFalse, linksv1.ReasonCodeConflict,
			conflictMessage(claim.code, conflict.Holder))
		sl.Status.ObservedGeneration = sl.Generation
		return ctrl.Result{RequeueAfter: conflictRecheck}, nil
	case store.IsUnavailable(err):
		return r.databaseUnavailable(ctx, sl, err), nil
	case err != nil:
		return ctrl.Result{}, err
	}
	link.Version = version
	r.setReady(sl, metav1.ConditionTrue, linksv1.ReasonSynced, "Served at "+sl.Status.URL)
	sl.Status.ObservedGeneration = sl.Generation
	if err := r.syncCache(ctx, link, changed); err != nil {
		logf.FromContext(ctx).Info("Redis not written; redirects still work", "error", err.Error())
		r.setCached(sl, metav1.ConditionFalse, linksv1.ReasonCacheUnavailable, err.Error())
		return ctrl.Result{RequeueAfter: cacheRetry}, nil
	}
	r.setCached(sl, metav1.ConditionTrue, linksv1.ReasonSynced, "In Redis at version "+fmt.Sprint(version))
	return ctrl.Result{}, nil
}

// refuse reports a spec that cannot be served and removes any row this ShortLink held.
// The error is terminal: only a new spec or a new policy can change the outcome, and both
// trigger a reconcile of their own.
func (r *ShortLinkReconciler) refuse(ctx context.Context, sl *linksv1.ShortLink, claim claim, cause error) (ctrl.Result, error) {
	reason, message := refusal(cause)
	r.setReady(sl, metav1.ConditionFalse, reason, message)
	sl.Status.ObservedGeneration = sl.Generation
	if err := r.release(ctx, sl, claim); err != nil {
		if store.IsUnavailable(err) {
			return r.databaseUnavailable(ctx, sl, err), nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, reconcile.TerminalError(cause)
}

// refusal is the Ready reason and message of a spec that cannot be served. The admission
// webhook denies with the same message, so kubectl shows what the status would say.
func refusal(cause error) (reason, message string) {
	reason = linksv1.ReasonInvalidTarget
	switch {
	case errors.Is(cause, errBlocked):
		reason = linksv1.ReasonBlocked
	case errors.Is(cause, errNotAllowed):
		reason = linksv1.ReasonNotAllowed
	}
	return reason, truncate(cause.Error(), maxMessage)
}

// conflictMessage is the CodeConflict message, and the admission webhook's warning.
func conflictMessage(code, holder string) string {
	return fmt.Sprintf("Code %q is held by %s, which claimed it first", code, holder)
}

// databaseUnavailable records the outage and retries later, backing off the longer it lasts:
// half its age so far, from dbRetryMin up to dbRetryMax. The outage is measured from its own
// start, kept as the Ready condition's LastTransitionTime: setCondition alone would keep an
// older time when Ready was already False for another reason.
func (r *ShortLinkReconciler) databaseUnavailable(ctx context.Context, sl *linksv1.ShortLink, err error) ctrl.Result {
	logf.FromContext(ctx).Info("PostgreSQL unavailable; will retry", "error", err.Error())
	start := r.outageStart(sl)
	r.setReady(sl, metav1.ConditionFalse, linksv1.ReasonDatabaseUnavailable, "PostgreSQL unavailable: "+err.Error())
	meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady).LastTransitionTime = metav1.NewTime(start)
	return ctrl.Result{RequeueAfter: min(max(r.now().Sub(start)/2, dbRetryMin), dbRetryMax)}
}

// outageStart is when the current outage began: the time Ready turned DatabaseUnavailable, or
// now if it does not say so yet. Whole seconds, as the API server keeps it.
func (r *ShortLinkReconciler) outageStart(sl *linksv1.ShortLink) time.Time {
	if c := meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady); c != nil &&
		c.Reason == linksv1.ReasonDatabaseUnavailable {
		return c.LastTransitionTime.Time
	}
	return r.now().Truncate(time.Second)
}

// patchStatus writes the status once, and only when it changed, so resyncs write nothing.
func (r *ShortLinkReconciler) patchStatus(ctx context.Context, orig, sl *linksv1.ShortLink) error {
	if equality.Semantic.DeepEqual(orig.Status, sl.Status) {
		return nil
	}
	r.recordTransition(orig, sl)
	if err := r.Status().Patch(ctx, sl, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
}

func (r *ShortLinkReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
