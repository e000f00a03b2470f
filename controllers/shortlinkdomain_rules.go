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
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// How a ShortLinkDomain governs the ShortLinks on its host. A host that no object declares is
// governed by the flags alone, as before domains were objects: every namespace may publish on
// it, with any code. An object narrows that; it never widens what the flags refuse, except
// that the host it declares is served.

// errNotAllowed marks a refusal by a ShortLinkDomain's rules (Ready reason NotAllowed).
var errNotAllowed = errors.New("not allowed")

// lookupError is a failure to read what a domain's rules need (a cached object). It refuses
// nothing: the reconcile is retried.
type lookupError struct{ err error }

func (e lookupError) Error() string { return e.err.Error() }
func (e lookupError) Unwrap() error { return e.err }

func isLookupError(err error) bool {
	var le lookupError
	return errors.As(err, &le)
}

// hostOf is the host a claim is served on: its stored domain, or the default domain for ”.
func (r *ShortLinkReconciler) hostOf(c claim) string {
	return hostOfStored(c.domain, r.Installation.Site.DefaultDomain())
}

func hostOfStored(storedDomain, defaultDomain string) string {
	if storedDomain == "" {
		return defaultDomain
	}
	return storedDomain
}

// governingDomain returns the ShortLinkDomain that governs host, or nil when none declares it.
func (r *ShortLinkReconciler) governingDomain(ctx context.Context, host string) (*linksv1.ShortLinkDomain, error) {
	return governingDomain(ctx, r.Client, host)
}

// governingDomain returns the oldest live ShortLinkDomain declaring host (earliest
// creationTimestamp, then name), or nil. Younger ones report HostConflict, so the outcome never
// depends on which object was reconciled first.
func governingDomain(ctx context.Context, c client.Reader, host string) (*linksv1.ShortLinkDomain, error) {
	all, err := domainsOfHost(ctx, c, host)
	if err != nil {
		return nil, lookupError{err}
	}
	var oldest *linksv1.ShortLinkDomain
	for i := range all {
		d := &all[i]
		if !d.DeletionTimestamp.IsZero() {
			continue
		}
		if oldest == nil || declaredBefore(d, oldest) {
			oldest = d
		}
	}
	return oldest, nil
}

// domainsOfHost lists the ShortLinkDomains declaring host. They are a platform admin's few
// objects, so a filtered list of all of them costs less than an index, and works on a client
// without one.
func domainsOfHost(ctx context.Context, c client.Reader, host string) ([]linksv1.ShortLinkDomain, error) {
	var list linksv1.ShortLinkDomainList
	if err := c.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	out := list.Items[:0]
	for _, d := range list.Items {
		if d.Spec.Host == host {
			out = append(out, d)
		}
	}
	return out, nil
}

func declaredBefore(a, b *linksv1.ShortLinkDomain) bool {
	if ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time; !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

// checkNotDeclaredHost refuses a target on a host a ShortLinkDomain declares, as the URL
// policy refuses one on a host the flags serve: such a link would redirect to ourselves.
func (r *ShortLinkReconciler) checkNotDeclaredHost(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return nil //nolint:nilerr // the URL policy already accepted it; nothing to compare
	}
	dom, err := r.governingDomain(ctx, u.Hostname())
	if err != nil {
		return err
	}
	if dom != nil {
		return fmt.Errorf("%w: target: host %s is served by this shortener (redirect loop; ShortLinkDomain %s)",
			errBlocked, u.Hostname(), dom.Name)
	}
	return nil
}

// checkDomainRules refuses sl when its namespace may not publish on dom's host or its code
// breaks one of dom's code rules; the message names the domain and the rule.
func (r *ShortLinkReconciler) checkDomainRules(ctx context.Context, dom *linksv1.ShortLinkDomain, sl *linksv1.ShortLink, c claim) error {
	spec := dom.Spec
	an := spec.AllowedNamespaces
	restricts := an != nil && an.From == linksv1.NamespacesFromSelector
	if !restricts && len(spec.CodeRules) == 0 {
		return nil
	}
	nsLabels, err := r.namespaceLabels(ctx, sl.Namespace)
	if err != nil {
		return err
	}
	if restricts {
		if err := allowsNamespace(dom, an.Selector, sl.Namespace, nsLabels); err != nil {
			return err
		}
	}
	return checkCodeRules(dom, sl.Namespace, nsLabels, c.code)
}

func allowsNamespace(dom *linksv1.ShortLinkDomain, sel *metav1.LabelSelector, ns string, nsLabels labels.Set) error {
	matches, err := selects(sel, nsLabels)
	if err != nil {
		return notAllowed(dom, "allowedNamespaces.selector is invalid (%v), so it admits no namespace", err)
	}
	if !matches {
		return notAllowed(dom, "allowedNamespaces admits only namespaces matching %q; namespace %q does not match",
			metav1.FormatLabelSelector(sel), ns)
	}
	return nil
}

// checkCodeRules: when one or more rules select the namespace, the code must start with one
// of their prefixes. A rule whose selector is invalid selects every namespace and cannot be
// met, so a typo refuses rather than admits.
func checkCodeRules(dom *linksv1.ShortLinkDomain, ns string, nsLabels labels.Set, code string) error {
	var prefixes, rules []string
	for i, rule := range dom.Spec.CodeRules {
		matches, err := selects(&rule.NamespaceSelector, nsLabels)
		if err != nil {
			return notAllowed(dom, "codeRules[%d].namespaceSelector is invalid (%v)", i, err)
		}
		if !matches {
			continue
		}
		if strings.HasPrefix(code, rule.Prefix) {
			return nil
		}
		prefixes = append(prefixes, fmt.Sprintf("%q", rule.Prefix))
		rules = append(rules, fmt.Sprintf("codeRules[%d]", i))
	}
	if len(prefixes) == 0 {
		return nil
	}
	return notAllowed(dom, "codes from namespace %q must start with %s (%s); code %q does not",
		ns, strings.Join(prefixes, " or "), strings.Join(rules, ", "), code)
}

func selects(sel *metav1.LabelSelector, set labels.Set) (bool, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	return s.Matches(set), nil
}

func notAllowed(dom *linksv1.ShortLinkDomain, format string, args ...any) error {
	return fmt.Errorf("%w: domain %s (ShortLinkDomain %s): %s", errNotAllowed, dom.Spec.Host, dom.Name, fmt.Sprintf(format, args...))
}

// namespaceLabels reads a namespace's labels from the metadata-only cache. A namespace that
// is gone has none: its links are being deleted with it.
func (r *ShortLinkReconciler) namespaceLabels(ctx context.Context, name string) (labels.Set, error) {
	ns := namespaceMeta()
	if err := r.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			return labels.Set{}, nil
		}
		return nil, lookupError{fmt.Errorf("read namespace %s: %w", name, err)}
	}
	return ns.GetLabels(), nil
}

// namespaceMeta is an empty Namespace as the metadata-only informer holds it: the operator
// reads only labels, and a namespace's spec and status are not worth a watch.
func namespaceMeta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(namespaceGVK)
	return m
}
