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
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// labeledNamespace gives a test a namespace of its own with labels.
func labeledNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("t%d", nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

func relabel(t *testing.T, ns string, labels map[string]string) {
	t.Helper()
	var obj corev1.Namespace
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: ns}, &obj); err != nil {
		t.Fatal(err)
	}
	obj.Labels = labels
	if err := k8s.Update(context.Background(), &obj); err != nil {
		t.Fatal(err)
	}
}

// createDomain creates d and deletes it when the test ends, waiting until it is gone, so the
// next test finds its host governed by the flags alone.
func createDomain(t *testing.T, d *linksv1.ShortLinkDomain) *linksv1.ShortLinkDomain {
	t.Helper()
	if err := k8s.Create(context.Background(), d); err != nil {
		t.Fatalf("create domain %s: %v", d.Name, err)
	}
	t.Cleanup(func() { deleteDomain(t, d) })
	return d
}

func deleteDomain(t *testing.T, d *linksv1.ShortLinkDomain) {
	t.Helper()
	if err := k8s.Delete(context.Background(), d); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	waitFor(t, "domain "+d.Name+" gone", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(d), &linksv1.ShortLinkDomain{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

func teamDomain(name, host string, selector map[string]string) *linksv1.ShortLinkDomain {
	d := &linksv1.ShortLinkDomain{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: linksv1.ShortLinkDomainSpec{Host: host}}
	if selector != nil {
		d.Spec.AllowedNamespaces = &linksv1.AllowedNamespaces{
			From: linksv1.NamespacesFromSelector, Selector: &metav1.LabelSelector{MatchLabels: selector},
		}
	}
	return d
}

func getDomain(t *testing.T, d *linksv1.ShortLinkDomain) *linksv1.ShortLinkDomain {
	t.Helper()
	var got linksv1.ShortLinkDomain
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(d), &got); err != nil {
		t.Fatalf("get domain %s: %v", d.Name, err)
	}
	return &got
}

// waitNotAllowed waits for Ready=False NotAllowed and checks that the message names the domain
// and the rule, and that no live row is held.
func waitNotAllowed(t *testing.T, sl *linksv1.ShortLink, host, code, rule string) {
	t.Helper()
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonNotAllowed)
	msg := condition(got, linksv1.ConditionReady).Message
	if !strings.Contains(msg, host) || !strings.Contains(msg, rule) {
		t.Errorf("%s/%s: message %q does not name domain %s and rule %s", sl.Namespace, sl.Name, msg, host, rule)
	}
	if s := condition(got, linksv1.ConditionStalled); s == nil || s.Status != metav1.ConditionTrue || s.Reason != linksv1.ReasonNotAllowed {
		t.Errorf("%s/%s: Stalled = %+v; want True/NotAllowed for kstatus", sl.Namespace, sl.Name, s)
	}
	if r, ok := row(t, host, code); ok && !r.Deleted {
		t.Errorf("%s/%s: refused link holds a live row %+v", sl.Namespace, sl.Name, r)
	}
}

func onDomain(ns, name, host, code string) *linksv1.ShortLink {
	return shortLink(ns, name, linksv1.ShortLinkSpec{Domain: host, Code: code, Target: linksv1.TargetURL("https://example.com/" + name)})
}

// A domain declared only by an object is served, to the namespaces its selector admits: the
// others' links are NotAllowed and hold no row, and the domain's status counts each outcome.
func TestDomainAdmitsOnlySelectedNamespaces(t *testing.T) {
	teamA := labeledNamespace(t, map[string]string{"team": "a"})
	teamB := labeledNamespace(t, map[string]string{"team": "b"})
	host := teamA + ".teams.example"
	d := createDomain(t, teamDomain(teamA+"-domain", host, map[string]string{"team": "a"}))

	// Two claimants of one code: which holds it is the holder rule's business (same second,
	// then UID); the domain counts one served and one in conflict either way.
	first := create(t, onDomain(teamA, "docs", host, "docs"))
	second := create(t, onDomain(teamA, "docs-again", host, "docs"))
	refused := create(t, onDomain(teamB, "wiki", host, "wiki"))
	waitFor(t, "one claimant served, the other in conflict", func() (bool, string) {
		a, b := readyOf(get(t, first)), readyOf(get(t, second))
		return (a == "True/Synced" && b == "False/CodeConflict") || (b == "True/Synced" && a == "False/CodeConflict"), a + " " + b
	})
	holder := first
	if readyOf(get(t, second)) == "True/Synced" {
		holder = second
	}
	if got := get(t, holder); got.Status.URL != "https://"+host+"/docs" {
		t.Errorf("status.url = %q", got.Status.URL)
	}
	if r, ok := row(t, host, "docs"); !ok || r.Deleted || r.Owner != teamA+"/"+holder.Name {
		t.Errorf("row of docs = %+v, %v; want held by %s/%s", r, ok, teamA, holder.Name)
	}
	waitNotAllowed(t, refused, host, "wiki", "allowedNamespaces")

	waitFor(t, "domain status counts", func() (bool, string) {
		s := getDomain(t, d).Status
		c := condition2(s.Conditions)
		return c != nil && c.Status == metav1.ConditionTrue && s.Links == 1 && s.Conflicts == 1 && s.Refused == 1,
			fmt.Sprintf("ready %+v, links %d, conflicts %d, refused %d", c, s.Links, s.Conflicts, s.Refused)
	})
}

func readyOf(sl *linksv1.ShortLink) string {
	c := condition(sl, linksv1.ConditionReady)
	if c == nil || c.ObservedGeneration != sl.Generation {
		return "none"
	}
	return string(c.Status) + "/" + c.Reason
}

func condition2(conds []metav1.Condition) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == linksv1.ConditionReady {
			return &conds[i]
		}
	}
	return nil
}

// Relabelling a namespace, or editing a domain's selector, checks the links again: a link
// that loses the right gives up its row, one that gains it is served.
func TestDomainRulesAreCheckedAgainOnChange(t *testing.T) {
	teamA := labeledNamespace(t, map[string]string{"team": "a"})
	teamB := labeledNamespace(t, map[string]string{"team": "b"})
	host := teamA + ".teams.example"
	d := createDomain(t, teamDomain(teamA+"-domain", host, map[string]string{"team": "a"}))
	a := create(t, onDomain(teamA, "alpha", host, "alpha"))
	b := create(t, onDomain(teamB, "beta", host, "beta"))
	waitReady(t, a, metav1.ConditionTrue, linksv1.ReasonSynced)
	waitNotAllowed(t, b, host, "beta", "allowedNamespaces")

	relabel(t, teamB, map[string]string{"team": "a"})
	waitReady(t, b, metav1.ConditionTrue, linksv1.ReasonSynced)
	if r, ok := row(t, host, "beta"); !ok || r.Deleted {
		t.Errorf("row of beta after the relabel = %+v, %v; want live", r, ok)
	}

	cur := getDomain(t, d)
	cur.Spec.AllowedNamespaces.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "b"}}
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	waitNotAllowed(t, a, host, "alpha", "team=b")
	waitNotAllowed(t, b, host, "beta", "team=b")
	if r, ok := row(t, host, "alpha"); !ok || !r.Deleted {
		t.Errorf("row of alpha after the selector edit = %+v, %v; want a tombstone", r, ok)
	}
}

// A code rule makes the namespaces it selects use its prefix; others keep any code.
func TestDomainCodePrefixRule(t *testing.T) {
	teamA := labeledNamespace(t, map[string]string{"team": "a"})
	other := labeledNamespace(t, map[string]string{"team": "c"})
	host := teamA + ".teams.example"
	d := teamDomain(teamA+"-domain", host, nil)
	d.Spec.CodeRules = []linksv1.CodeRule{{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, Prefix: "a-",
	}}
	createDomain(t, d)
	login := create(t, onDomain(teamA, "login", host, "login"))
	prefixed := create(t, onDomain(teamA, "a-login", host, "a-login"))
	free := create(t, onDomain(other, "help", host, "help"))
	waitNotAllowed(t, login, host, "login", `must start with "a-" (codeRules[0])`)
	waitReady(t, prefixed, metav1.ConditionTrue, linksv1.ReasonSynced)
	waitReady(t, free, metav1.ConditionTrue, linksv1.ReasonSynced)
}

// A domain the flags serve admits every namespace until an object narrows it, and again once
// the object is gone: the served domains are the union of both.
func TestFlagDomainNarrowedByAnObjectAndWidenedAgain(t *testing.T) {
	ns := labeledNamespace(t, map[string]string{"team": "x"})
	const host = "go.example.com"
	code := ns + "-go"
	sl := create(t, onDomain(ns, "go", host, code))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)

	d := createDomain(t, teamDomain(ns+"-go", host, map[string]string{"team": "nobody"}))
	waitNotAllowed(t, sl, host, code, "allowedNamespaces")

	deleteDomain(t, d)
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if r, ok := row(t, host, code); !ok || r.Deleted {
		t.Errorf("row after the domain object went = %+v, %v; want live", r, ok)
	}
}

// Without domain objects the flags behave as before: links on the default domain and on a
// flag domain are served in any namespace, and a host neither declares is not served.
func TestFlagsAloneBehaveAsBeforeDomainObjects(t *testing.T) {
	ns := newNamespace(t)
	var list linksv1.ShortLinkDomainList
	if err := k8s.List(context.Background(), &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("domain objects present (%d, %v); this test needs none", len(list.Items), err)
	}
	def := create(t, shortLink(ns, ns+"-def", linksv1.ShortLinkSpec{Target: "https://example.com/def"}))
	flag := create(t, onDomain(ns, "flag", "go.example.com", ns+"-flag"))
	unserved := create(t, onDomain(ns, "unserved", ns+".nowhere.example", "x"))
	waitReady(t, def, metav1.ConditionTrue, linksv1.ReasonSynced)
	waitReady(t, flag, metav1.ConditionTrue, linksv1.ReasonSynced)
	got := waitReady(t, unserved, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
	if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, "not served") {
		t.Errorf("unserved domain message %q", msg)
	}
	if r, ok := row(t, "", ns+"-def"); !ok || r.Deleted {
		t.Errorf("row of the default-domain link = %+v, %v", r, ok)
	}
	if r, ok := row(t, "go.example.com", ns+"-flag"); !ok || r.Deleted {
		t.Errorf("row of the flag-domain link = %+v, %v", r, ok)
	}
}

// An object declaring the default domain governs links without spec.domain.
func TestDomainObjectGovernsTheDefaultDomain(t *testing.T) {
	ns := labeledNamespace(t, map[string]string{"prefix-test": "on"})
	d := teamDomain(ns+"-default", testDefaultDomain, nil)
	d.Spec.CodeRules = []linksv1.CodeRule{{
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"prefix-test": "on"}}, Prefix: ns + "-",
	}}
	createDomain(t, d)
	bare := create(t, shortLink(ns, "bare", linksv1.ShortLinkSpec{Code: "bare-" + ns, Target: "https://example.com/"}))
	waitNotAllowed(t, bare, testDefaultDomain, "bare-"+ns, "codeRules[0]")
	if r, ok := row(t, "", "bare-"+ns); ok && !r.Deleted {
		t.Errorf("refused default-domain link holds row %+v", r)
	}
}

// Of two objects declaring one host the older governs; the younger says so, and takes over
// when the older goes.
func TestYoungerDomainObjectForTheSameHostWaits(t *testing.T) {
	ns := newNamespace(t)
	host := ns + ".teams.example"
	older := createDomain(t, teamDomain(ns+"-older", host, nil))
	waitFor(t, "older domain Ready", func() (bool, string) {
		c := condition2(getDomain(t, older).Status.Conditions)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
	younger := createDomain(t, teamDomain(ns+"-younger", host, nil))
	waitFor(t, "younger domain HostConflict", func() (bool, string) {
		c := condition2(getDomain(t, younger).Status.Conditions)
		return c != nil && c.Reason == linksv1.ReasonHostConflict && strings.Contains(c.Message, older.Name), fmt.Sprintf("%+v", c)
	})
	if r, ok := storedDomainRow(t, host); !ok || r.Owner != older.Name {
		t.Errorf("row of %s = %+v, %v; want written by the older object", host, r, ok)
	}
	deleteDomain(t, older)
	waitFor(t, "younger domain Ready after the older went", func() (bool, string) {
		c := condition2(getDomain(t, younger).Status.Conditions)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
	waitFor(t, "row taken over by the younger object", func() (bool, string) {
		r, ok := storedDomainRow(t, host)
		return ok && r.Owner == younger.Name, fmt.Sprintf("%+v %v", r, ok)
	})
}

// storedDomainRow reads host's row of the domains table.
func storedDomainRow(t *testing.T, host string) (store.Domain, bool) {
	t.Helper()
	all, err := db.Domains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.Host == host {
			return d, true
		}
	}
	return store.Domain{}, false
}

// The domains table the redirectors read follows the object: written with the default
// robots.txt, rewritten on a change, removed with the object.
func TestDomainRowFollowsTheObject(t *testing.T) {
	ns := newNamespace(t)
	host := ns + ".rows.example"
	d := teamDomain(ns+"-rows", host, nil)
	d.Spec.RootRedirect = "https://example.com/home"
	d = createDomain(t, d)
	waitFor(t, "row of "+host, func() (bool, string) {
		r, ok := storedDomainRow(t, host)
		return ok && r.RootRedirect == "https://example.com/home" && r.RobotsTxt == links.DefaultRobotsTxt &&
			r.Owner == d.Name && r.OwnerUID == string(d.UID), fmt.Sprintf("%+v %v", r, ok)
	})

	cur := getDomain(t, d)
	cur.Spec.NotFoundRedirect = "https://example.com/missing"
	cur.Spec.RobotsTxt = ptr.To("User-agent: *\nAllow: /\n")
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "row of "+host+" rewritten", func() (bool, string) {
		r, ok := storedDomainRow(t, host)
		return ok && r.NotFoundRedirect == "https://example.com/missing" && r.RobotsTxt == "User-agent: *\nAllow: /\n", fmt.Sprintf("%+v", r)
	})

	deleteDomain(t, d)
	if r, ok := storedDomainRow(t, host); ok {
		t.Fatalf("row of a deleted domain kept: %+v", r)
	}
}

// A host an object declares is ours, as a flag domain is: a link to it would redirect to
// ourselves, and is Blocked.
func TestTargetOnADeclaredHostIsBlocked(t *testing.T) {
	ns := newNamespace(t)
	host := ns + ".loop.example"
	sl := create(t, shortLink(ns, "loop-"+ns, linksv1.ShortLinkSpec{Target: linksv1.TargetURL("https://" + host + "/x")}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	d := createDomain(t, teamDomain(ns+"-loop", host, nil))
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonBlocked)
	if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, "redirect loop") {
		t.Errorf("message %q does not say redirect loop", msg)
	}
	if r, ok := row(t, "", "loop-"+ns); !ok || !r.Deleted {
		t.Errorf("row of the looping link = %+v, %v; want a tombstone", r, ok)
	}
	deleteDomain(t, d)
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
}
