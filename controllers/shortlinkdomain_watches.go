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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// linkHostIndex indexes ShortLinks by the host they are served on (the default domain's name
// for a link without spec.domain): a domain's change re-checks the links on its host, and the
// domain's status counts them.
const linkHostIndex = "links.shortlink.dev/host"

var namespaceGVK = corev1.SchemeGroupVersion.WithKind("Namespace")

// indexDomains registers linkHostIndex; the ShortLink and ShortLinkDomain reconcilers read it.
func indexDomains(ctx context.Context, mgr ctrl.Manager, site links.Site) error {
	return mgr.GetFieldIndexer().IndexField(ctx, &linksv1.ShortLink{}, linkHostIndex, func(o client.Object) []string {
		return []string{linkHost(o.(*linksv1.ShortLink), site)}
	})
}

// linkHost is the host sl is served on.
func linkHost(sl *linksv1.ShortLink, site links.Site) string {
	return hostOfStored(claimFor(sl, site).domain, site.DefaultDomain())
}

// watchDomainRules re-checks links when what a domain's rules read changes, as a blocklist
// change does: a ShortLinkDomain's spec (its links), or a namespace's labels (its links).
func (r *ShortLinkReconciler) watchDomainRules(b *builder.TypedBuilder[reconcile.Request]) *builder.TypedBuilder[reconcile.Request] {
	return b.
		Watches(&linksv1.ShortLinkDomain{}, r.domainChanged(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(namespaceMeta(), handler.EnqueueRequestsFromMapFunc(r.linksInNamespace),
			builder.OnlyMetadata, builder.WithPredicates(labelsChanged()))
}

// domainChanged maps a ShortLinkDomain's new rules to the links on its host; its creation or
// deletion changes what is served, and so which targets would loop back to us, so it
// re-checks every link, as a blocklist change does. Domains come and go rarely.
func (r *ShortLinkReconciler) domainChanged() handler.EventHandler {
	every, onHost := r.everyShortLink(), handler.EnqueueRequestsFromMapFunc(r.linksOnHost)
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			every.Create(ctx, e, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			onHost.Update(ctx, e, q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			every.Delete(ctx, e, q)
		},
	}
}

// linksOnHost maps a ShortLinkDomain to the ShortLinks on its host.
func (r *ShortLinkReconciler) linksOnHost(ctx context.Context, o client.Object) []reconcile.Request {
	var list linksv1.ShortLinkList
	host := o.(*linksv1.ShortLinkDomain).Spec.Host
	if err := r.List(ctx, &list, client.MatchingFields{linkHostIndex: host}); err != nil {
		logf.FromContext(ctx).Error(err, "List ShortLinks after a domain change", "host", host)
		return nil
	}
	return requests(list.Items)
}

// linksInNamespace maps a namespace to its ShortLinks.
func (r *ShortLinkReconciler) linksInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	var list linksv1.ShortLinkList
	if err := r.List(ctx, &list, client.InNamespace(o.GetName())); err != nil {
		logf.FromContext(ctx).Error(err, "List ShortLinks after a namespace relabel", "namespace", o.GetName())
		return nil
	}
	return requests(list.Items)
}

func requests(items []linksv1.ShortLink) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(items))
	for i := range items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&items[i])})
	}
	return reqs
}

// labelsChanged lets through only a namespace's relabel: a namespace's creation finds no links
// yet, and its deletion deletes them.
func labelsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !equality.Semantic.DeepEqual(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
	}
}

// SetupWithManager registers the ShortLinkDomain reconciler. The host indexes it reads are
// registered by the ShortLinkReconciler's SetupWithManager, which must run first.
func (r *ShortLinkDomainReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&linksv1.ShortLinkDomain{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Another object on the same host may now govern it, or no longer.
		Watches(&linksv1.ShortLinkDomain{}, handler.EnqueueRequestsFromMapFunc(r.domainsOfHost),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A link's outcome changes its domain's counts.
		Watches(&linksv1.ShortLink{}, r.domainsOfLinks(), builder.WithPredicates(outcomeChanged())).
		Named("shortlinkdomain").
		Complete(r)
}

func (r *ShortLinkDomainReconciler) domainsOfHost(ctx context.Context, o client.Object) []reconcile.Request {
	return r.domainsOn(ctx, o.(*linksv1.ShortLinkDomain).Spec.Host)
}

func (r *ShortLinkDomainReconciler) domainsOn(ctx context.Context, host string) []reconcile.Request {
	all, err := domainsOfHost(ctx, r.Client, host)
	if err != nil {
		logf.FromContext(ctx).Error(err, "List domains of a host", "host", host)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(all))
	for i := range all {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&all[i])})
	}
	return reqs
}

// domainsOfLinks maps a link to the domains of its host, before and after a change of
// spec.domain.
func (r *ShortLinkDomainReconciler) domainsOfLinks() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueHosts(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueHosts(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueHosts(ctx, q, e.Object)
		},
	}
}

func (r *ShortLinkDomainReconciler) enqueueHosts(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
	for _, o := range objs {
		if sl, ok := o.(*linksv1.ShortLink); ok {
			for _, req := range r.domainsOn(ctx, linkHost(sl, r.Site)) {
				q.Add(req)
			}
		}
	}
}

// outcomeChanged lets through what may change a domain's counts: a link created or deleted,
// its Ready outcome changed, or its spec (its domain) changed.
func outcomeChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() || conditionsChanged(e)
	}}
}
