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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// ShortLinkDomainReconciler writes the host a ShortLinkDomain governs (the oldest object
// declaring a host does) into PostgreSQL for the redirectors, and reports how many links on the
// host are served, wait in CodeConflict, or are refused by its rules. The ShortLinkReconciler
// applies the rules; this one only reads their outcome.
type ShortLinkDomainReconciler struct {
	client.Client
	// Store holds the domains table the redirectors read.
	Store DomainStore
	// Site names the default domain, the host of links without spec.domain.
	Site links.Site
}

// DomainStore is the domains table as the domain reconciler uses it. Every write is idempotent.
type DomainStore interface {
	UpsertDomain(ctx context.Context, d store.Domain) (bool, error)
	DeleteDomain(ctx context.Context, host, ownerUID string) (bool, error)
}

// domainDBRetry is how soon a domain whose row could not be written is tried again. Domains
// are few, so a steady retry costs nothing worth a backoff.
const domainDBRetry = 10 * time.Second

// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinkdomains,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinkdomains/status,verbs=get;patch
// +kubebuilder:rbac:groups=links.shortlink.dev,resources=shortlinkdomains/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile brings one ShortLinkDomain's status up to date.
func (r *ShortLinkDomainReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d linksv1.ShortLinkDomain
	if err := r.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !d.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, &d)
	}
	if !controllerutil.ContainsFinalizer(&d, finalizerName) {
		orig := d.DeepCopy()
		controllerutil.AddFinalizer(&d, finalizerName)
		if err := r.Patch(ctx, &d, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	orig := d.DeepCopy()
	result, err := r.reconcileNormal(ctx, &d)
	setDomainProgress(&d)
	if perr := r.patchStatus(ctx, orig, &d); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	return result, err
}

// reconcileDelete removes the host's row, if this object wrote it, then lets the object go.
// Its links are re-checked by the ShortLink controller, which sees the deletion too; another
// object declaring the host takes it over and writes its own row.
func (r *ShortLinkDomainReconciler) reconcileDelete(ctx context.Context, d *linksv1.ShortLinkDomain) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(d, finalizerName) {
		return ctrl.Result{}, nil
	}
	if _, err := r.Store.DeleteDomain(ctx, d.Spec.Host, string(d.UID)); err != nil {
		return ctrl.Result{}, fmt.Errorf("delete domain row: %w", err)
	}
	orig := d.DeepCopy()
	controllerutil.RemoveFinalizer(d, finalizerName)
	if err := r.Patch(ctx, d, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	return ctrl.Result{}, nil
}

// reconcileNormal sets Ready and the counts.
func (r *ShortLinkDomainReconciler) reconcileNormal(ctx context.Context, d *linksv1.ShortLinkDomain) (ctrl.Result, error) {
	gov, err := governingDomain(ctx, r.Client, d.Spec.Host)
	if err != nil {
		return ctrl.Result{}, err
	}
	if gov != nil && gov.UID != d.UID {
		setDomainReady(d, metav1.ConditionFalse, linksv1.ReasonHostConflict,
			fmt.Sprintf("Host %s is declared by ShortLinkDomain %s, which is older and governs it", d.Spec.Host, gov.Name))
		d.Status.Links, d.Status.Conflicts, d.Status.Refused = 0, 0, 0
		d.Status.ObservedGeneration = d.Generation
		return ctrl.Result{}, nil
	}
	if err := r.count(ctx, d); err != nil {
		return ctrl.Result{}, err
	}
	if _, err := r.Store.UpsertDomain(ctx, domainRow(d)); store.IsUnavailable(err) {
		setDomainReady(d, metav1.ConditionFalse, linksv1.ReasonDatabaseUnavailable, "PostgreSQL unavailable: "+err.Error())
		return ctrl.Result{RequeueAfter: domainDBRetry}, nil
	} else if err != nil {
		return ctrl.Result{}, fmt.Errorf("write domain row: %w", err)
	}
	setDomainReady(d, metav1.ConditionTrue, linksv1.ReasonSynced, "Serving host "+d.Spec.Host)
	d.Status.ObservedGeneration = d.Generation
	return ctrl.Result{}, nil
}

// domainRow is what the redirectors need of d: its redirects and robots.txt.
func domainRow(d *linksv1.ShortLinkDomain) store.Domain {
	robots := links.DefaultRobotsTxt
	if d.Spec.RobotsTxt != nil {
		robots = *d.Spec.RobotsTxt
	}
	return store.Domain{
		Host: d.Spec.Host, RootRedirect: string(d.Spec.RootRedirect), NotFoundRedirect: string(d.Spec.NotFoundRedirect),
		RobotsTxt: robots, Owner: d.Name, OwnerUID: string(d.UID),
	}
}

// count tallies the links on d's host by the outcome of their last reconcile.
func (r *ShortLinkDomainReconciler) count(ctx context.Context, d *linksv1.ShortLinkDomain) error {
	var list linksv1.ShortLinkList
	if err := r.List(ctx, &list, client.MatchingFields{linkHostIndex: d.Spec.Host}); err != nil {
		return fmt.Errorf("list links of host %s: %w", d.Spec.Host, err)
	}
	d.Status.Links, d.Status.Conflicts, d.Status.Refused = 0, 0, 0
	for i := range list.Items {
		c := meta.FindStatusCondition(list.Items[i].Status.Conditions, linksv1.ConditionReady)
		switch {
		case c == nil:
		case c.Status == metav1.ConditionTrue:
			d.Status.Links++
		case c.Reason == linksv1.ReasonCodeConflict:
			d.Status.Conflicts++
		case c.Reason == linksv1.ReasonNotAllowed:
			d.Status.Refused++
		}
	}
	return nil
}

func setDomainReady(d *linksv1.ShortLinkDomain, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&d.Status.Conditions, metav1.Condition{
		Type: linksv1.ConditionReady, Status: status, Reason: reason, Message: truncate(msg, 1024),
		ObservedGeneration: d.Generation,
	})
}

// setDomainProgress derives kstatus's Reconciling and Stalled from Ready, as setProgress does
// for a ShortLink, so Flux and Argo CD (the same health script) read a domain as a link: a
// HostConflict stalls until the older object goes; DatabaseUnavailable is retried.
func setDomainProgress(d *linksv1.ShortLinkDomain) {
	conds := &d.Status.Conditions
	ready := meta.FindStatusCondition(*conds, linksv1.ConditionReady)
	progress := func(typ string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: metav1.ConditionTrue,
			Reason: ready.Reason, Message: ready.Message, ObservedGeneration: d.Generation})
	}
	switch {
	case ready == nil || ready.Status == metav1.ConditionTrue:
		meta.RemoveStatusCondition(conds, linksv1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, linksv1.ConditionStalled)
	case ready.Reason == linksv1.ReasonDatabaseUnavailable:
		meta.RemoveStatusCondition(conds, linksv1.ConditionStalled)
		progress(linksv1.ConditionReconciling)
	default:
		meta.RemoveStatusCondition(conds, linksv1.ConditionReconciling)
		progress(linksv1.ConditionStalled)
	}
}

// patchStatus writes the status once, and only when it changed.
func (r *ShortLinkDomainReconciler) patchStatus(ctx context.Context, orig, d *linksv1.ShortLinkDomain) error {
	if equality.Semantic.DeepEqual(orig.Status, d.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, d, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
}
