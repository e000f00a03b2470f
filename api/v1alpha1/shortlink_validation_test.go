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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// newClient starts a real kube-apiserver with the CRD installed and a namespace to work in.
func newClient(t *testing.T) (client.Client, string) {
	t.Helper()
	env := localenv.ForTest(t, localenv.Options{Kube: true})
	scheme := runtime.NewScheme()
	if err := linksv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Kube.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := "validation"
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return c, ns
}

func link(ns, name string, spec linksv1.ShortLinkSpec) *linksv1.ShortLink {
	return &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func at(s string) *metav1.Time {
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &metav1.Time{Time: ts}
}

func TestAPIServerRefusesInvalidShortLinks(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	tags17 := make([]string, 17)
	for i := range tags17 {
		tags17[i] = strings.Repeat("t", i+1)
	}
	cases := []struct {
		name      string
		objName   string
		spec      linksv1.ShortLinkSpec
		wantField string
		wantMsg   string
	}{
		{"javascript target", "", linksv1.ShortLinkSpec{Target: "javascript:alert(1)"}, "spec.target", "scheme http or https"},
		{"relative target", "", linksv1.ShortLinkSpec{Target: "/relative/path"}, "spec.target", "scheme http or https"},
		{"target without host", "", linksv1.ShortLinkSpec{Target: "http://"}, "spec.target", "must have a host"},
		{"ftp target", "", linksv1.ShortLinkSpec{Target: "ftp://host/x"}, "spec.target", "scheme http or https"},
		{"target of 2049 bytes", "", linksv1.ShortLinkSpec{Target: linksv1.TargetURL("https://example.com/" + strings.Repeat("a", 2049-20))}, "spec.target", "2048"},
		{"multi-byte target over 2048 bytes", "", linksv1.ShortLinkSpec{Target: linksv1.TargetURL("https://example.com/" + strings.Repeat("é", 1100))}, "spec.target", "at most 2048 bytes"},
		{"target with a space", "", linksv1.ShortLinkSpec{Target: "https://example.com/a b"}, "spec.target", "whitespace or control characters"},
		{"target with CR LF", "", linksv1.ShortLinkSpec{Target: "https://example.com/a\r\nSet-Cookie: x=1"}, "spec.target", "whitespace or control characters"},
		{"expiredTarget like target", "", linksv1.ShortLinkSpec{Target: "https://example.com/", ExpiredTarget: "javascript:alert(1)"}, "spec.expiredTarget", "scheme http or https"},
		{"code with slash", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "a/b"}, "spec.code", "letters, digits"},
		{"code with dot", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "a.b"}, "spec.code", "letters, digits"},
		{"code of 65 characters", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: strings.Repeat("a", 65)}, "spec.code", ""},
		{"code starting with underscore", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "_healthz"}, "spec.code", "starting with a letter or digit"},
		{"no code and a name that is no code", "my.link", linksv1.ShortLinkSpec{Target: "https://example.com/"}, "metadata.name", "valid code"},
		{"redirect type 303", "", linksv1.ShortLinkSpec{Target: "https://example.com/", RedirectType: 303}, "spec.redirectType", "Unsupported value"},
		{"maxVisits 0", "", linksv1.ShortLinkSpec{Target: "https://example.com/", MaxVisits: ptr(int64(0))}, "spec.maxVisits", "greater than or equal to 1"},
		{"negative maxVisits", "", linksv1.ShortLinkSpec{Target: "https://example.com/", MaxVisits: ptr(int64(-5))}, "spec.maxVisits", "greater than or equal to 1"},
		{"validUntil before validSince", "", linksv1.ShortLinkSpec{Target: "https://example.com/",
			ValidSince: at("2026-12-01T00:00:00Z"), ValidUntil: at("2026-11-01T00:00:00Z")}, "spec.validUntil", "after validSince"},
		{"17 tags", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Tags: tags17}, "spec.tags", "16"},
		{"tag of 64 characters", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Tags: []string{strings.Repeat("t", 64)}}, "spec.tags[0]", "63"},
		{"domain with port", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Domain: "go.example.com:8080"}, "spec.domain", "port"},
		{"domain with upper case", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Domain: "Go.Example.com"}, "spec.domain", "lower case"},
		{"forwardPath on the code api", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "api", ForwardPath: true}, "spec.forwardPath", "cannot have the code api"},
		{"forwardPath on a ShortLink named api", "api", linksv1.ShortLinkSpec{Target: "https://example.com/", ForwardPath: true}, "spec.forwardPath", "cannot have the code api"},
		{"domain that is no host name", "", linksv1.ShortLinkSpec{Target: "https://example.com/", Domain: "-bad-.example"}, "spec.domain", "DNS host name"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.objName
			if name == "" {
				name = fmt.Sprintf("refused-%d", i)
			}
			err := c.Create(ctx, link(ns, name, tc.spec))
			if err == nil {
				t.Fatalf("created; want a refusal naming %s", tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantField) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not name %s with %q", err, tc.wantField, tc.wantMsg)
			}
			var got linksv1.ShortLink
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &got); err == nil {
				t.Fatal("a refused ShortLink was stored")
			}
		})
	}
}

func TestAPIServerKeepsCodeImmutable(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	withCode := link(ns, "with-code", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "summer"})
	withoutCode := link(ns, "without-code", linksv1.ShortLinkSpec{Target: "https://example.com/"})
	for _, sl := range []*linksv1.ShortLink{withCode, withoutCode} {
		if err := c.Create(ctx, sl); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		obj    *linksv1.ShortLink
		mutate func(*linksv1.ShortLinkSpec)
		want   string
	}{
		{"changed", withCode, func(s *linksv1.ShortLinkSpec) { s.Code = "winter" }, "code is immutable"},
		{"removed", withCode, func(s *linksv1.ShortLinkSpec) { s.Code = "" }, "cannot be added or removed"},
		{"added", withoutCode, func(s *linksv1.ShortLinkSpec) { s.Code = "autumn" }, "cannot be added or removed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sl linksv1.ShortLink
			if err := c.Get(ctx, client.ObjectKeyFromObject(tc.obj), &sl); err != nil {
				t.Fatal(err)
			}
			before := sl.Spec.Code
			tc.mutate(&sl.Spec)
			err := c.Update(ctx, &sl)
			if err == nil || !strings.Contains(err.Error(), "spec") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("update error = %v; want a refusal saying %q", err, tc.want)
			}
			if err := c.Get(ctx, client.ObjectKeyFromObject(tc.obj), &sl); err != nil || sl.Spec.Code != before {
				t.Fatalf("code after refused update = %q (%v), want %q", sl.Spec.Code, err, before)
			}
		})
	}
	t.Run("other fields still change", func(t *testing.T) {
		var sl linksv1.ShortLink
		if err := c.Get(ctx, client.ObjectKeyFromObject(withCode), &sl); err != nil {
			t.Fatal(err)
		}
		sl.Spec.Target = "https://example.org/new"
		if err := c.Update(ctx, &sl); err != nil {
			t.Fatalf("changing the target: %v", err)
		}
	})
}

func TestAPIServerAcceptsValidShortLinks(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()

	minimal := link(ns, "minimal", linksv1.ShortLinkSpec{Target: "https://example.com/landing"})
	if err := c.Create(ctx, minimal); err != nil {
		t.Fatalf("a ShortLink with only a target: %v", err)
	}
	var got linksv1.ShortLink
	if err := c.Get(ctx, client.ObjectKeyFromObject(minimal), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.RedirectType != 302 {
		t.Fatalf("default redirectType = %d, want 302 applied by the API server", got.Spec.RedirectType)
	}

	full := link(ns, "full", linksv1.ShortLinkSpec{
		Code:          "Summer_Sale-2026",
		Domain:        "go.example.com",
		Target:        "https://bücher.example/sale?utm_source=sl#top",
		RedirectType:  308,
		ForwardQuery:  true,
		ForwardPath:   true,
		ValidSince:    at("2026-06-01T00:00:00Z"),
		ValidUntil:    at("2026-09-01T00:00:00Z"),
		ExpiredTarget: "https://example.com/sale-over",
		Suspend:       true,
		MaxVisits:     ptr(int64(1000)),
		Tags:          []string{"campaign", "summer", strings.Repeat("t", 63)},
	})
	if err := c.Create(ctx, full); err != nil {
		t.Fatalf("a ShortLink with every field set: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(full), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.RedirectType != 308 || got.Spec.Code != "Summer_Sale-2026" || len(got.Spec.Tags) != 3 || !got.Spec.ForwardPath ||
		got.Spec.MaxVisits == nil || *got.Spec.MaxVisits != 1000 {
		t.Fatalf("stored spec = %+v", got.Spec)
	}
}

func TestSamplesAreAccepted(t *testing.T) {
	c, ns := newClient(t)
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "links_*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("samples = %v, %v; want the plain, campaign and permanent samples", files, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file) //nolint:gosec // our own samples
		if err != nil {
			t.Fatal(err)
		}
		var sl linksv1.ShortLink
		if err := yaml.UnmarshalStrict(data, &sl); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		sl.Namespace = ns
		if err := c.Create(context.Background(), &sl); err != nil {
			t.Errorf("%s refused: %v", filepath.Base(file), err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
