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

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/devenv"
)

// A ShortLinkDomain applied with kubectl reaches the running redirector through the manager and
// PostgreSQL: its host serves the links of the namespaces it admits, its / and unknown codes
// redirect where it says; a namespace it does not admit gets NotAllowed. The time from the
// apply to the first served redirect is logged for docs/benchmarks.md, never asserted.
func TestDomainObjectServedByTheRunningRedirector(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	const host = "teams.e2e.example"
	kubectl(t, `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-domain-a
  labels: {team: a}
---
apiVersion: v1
kind: Namespace
metadata:
  name: e2e-domain-b
  labels: {team: b}
---
apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata: {name: handbook, namespace: e2e-domain-a}
spec: {domain: `+host+`, code: handbook, target: "https://handbook.example.com/"}
---
apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata: {name: wiki, namespace: e2e-domain-b}
spec: {domain: `+host+`, code: wiki, target: "https://wiki.example.com/"}
`, "apply", "-f", "-")
	applied := time.Now()
	kubectl(t, `apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLinkDomain
metadata: {name: teams}
spec:
  host: `+host+`
  allowedNamespaces:
    from: Selector
    selector: {matchLabels: {team: a}}
  rootRedirect: https://intranet.example.com/
  notFoundRedirect: https://intranet.example.com/missing
`, "apply", "-f", "-")
	t.Cleanup(func() { kubectl(t, "", "delete", "shortlinkdomain", "teams", "--wait=true") })

	answers := func(path string, want int, location string) {
		t.Helper()
		var got int
		var loc string
		err := devenv.Poll(context.Background(), settle, host+path, func() (bool, error) {
			var err error
			got, loc, err = platform.Request(context.Background(), http.MethodHead, host, path)
			return err == nil && got == want && loc == location, nil
		})
		if err != nil {
			t.Fatalf("%v: last answer %d %q, want %d %q", err, got, loc, want, location)
		}
	}
	answers("/handbook", http.StatusFound, "https://handbook.example.com/")
	t.Logf("a new domain served %v after its kubectl apply", time.Since(applied).Round(10*time.Millisecond))
	answers("/", http.StatusFound, "https://intranet.example.com/")
	answers("/nope", http.StatusFound, "https://intranet.example.com/missing")
	answers("/wiki", http.StatusFound, "https://intranet.example.com/missing")
	answers("/robots.txt", http.StatusOK, "")
	eventually(t, "wiki NotAllowed", func() string {
		c := meta.FindStatusCondition(shortLink(t, "e2e-domain-b", "wiki").Status.Conditions, linksv1.ConditionReady)
		if c == nil || c.Reason != linksv1.ReasonNotAllowed {
			return fmt.Sprintf("Ready = %+v, want NotAllowed", c)
		}
		return ""
	})
}
