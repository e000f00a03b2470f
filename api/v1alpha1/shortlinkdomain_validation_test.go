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

package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

func domain(name string, spec linksv1.ShortLinkDomainSpec) *linksv1.ShortLinkDomain {
	return &linksv1.ShortLinkDomain{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func TestAPIServerRefusesInvalidShortLinkDomains(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	team := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	cases := []struct {
		name      string
		spec      linksv1.ShortLinkDomainSpec
		wantField string
		wantMsg   string
	}{
		{"no host", linksv1.ShortLinkDomainSpec{}, "spec.host", ""},
		{"host with port", linksv1.ShortLinkDomainSpec{Host: "go.example.com:80"}, "spec.host", "must not include a port"},
		{"host with upper case", linksv1.ShortLinkDomainSpec{Host: "Go.example.com"}, "spec.host", "must be lower case"},
		{"host that is no host name", linksv1.ShortLinkDomainSpec{Host: "-bad-.example"}, "spec.host", "DNS host name"},
		{"unknown from", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			AllowedNamespaces: &linksv1.AllowedNamespaces{From: "Same"}}, "spec.allowedNamespaces.from", "Unsupported value"},
		{"Selector without selector", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			AllowedNamespaces: &linksv1.AllowedNamespaces{From: linksv1.NamespacesFromSelector}}, "spec.allowedNamespaces.selector", "selector is required"},
		{"selector with All", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			AllowedNamespaces: &linksv1.AllowedNamespaces{From: linksv1.NamespacesFromAll, Selector: team}}, "spec.allowedNamespaces.selector", "only when from is Selector"},
		{"prefix with a slash", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			CodeRules: []linksv1.CodeRule{{NamespaceSelector: *team, Prefix: "a/"}}}, "spec.codeRules[0].prefix", "letters, digits"},
		{"javascript notFoundRedirect", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			NotFoundRedirect: "javascript:alert(1)"}, "spec.notFoundRedirect", "scheme http or https"},
		{"relative rootRedirect", linksv1.ShortLinkDomainSpec{Host: "a.example.com",
			RootRedirect: "/home"}, "spec.rootRedirect", "scheme http or https"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("refused-%d", i)
			err := c.Create(ctx, domain(name, tc.spec))
			if err == nil {
				t.Fatalf("created; want a refusal naming %s", tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantField) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not name %s with %q", err, tc.wantField, tc.wantMsg)
			}
			var got linksv1.ShortLinkDomain
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &got); err == nil {
				t.Fatal("a refused ShortLinkDomain was stored")
			}
		})
	}
}

func TestAPIServerKeepsDomainHostImmutable(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	d := domain("go", linksv1.ShortLinkDomainSpec{Host: "go.example.com"})
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.AllowedNamespaces != nil {
		t.Fatalf("allowedNamespaces defaulted to %+v; want it left unset (All)", d.Spec.AllowedNamespaces)
	}
	d.Spec.Host = "other.example.com"
	err := c.Update(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "host is immutable") {
		t.Fatalf("update of host: %v; want a refusal saying host is immutable", err)
	}
}
