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

	"k8s.io/apimachinery/pkg/api/meta"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// TestApplyChangeDelete follows one ShortLink through its life with kubectl.
func TestApplyChangeDelete(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-life")
	apply(t, ns, "life", "e2e-life", "https://example.com/first")
	waitFor(t, "e2e-life", http.StatusFound, "https://example.com/first")

	patchTarget(t, ns, "life", "https://example.com/second")
	waitFor(t, "e2e-life", http.StatusFound, "https://example.com/second")

	kubectl(t, "", "-n", ns, "delete", "shortlink", "life")
	waitFor(t, "e2e-life", http.StatusNotFound, "")
}

// TestNamespaceDeletionTombstonesRow deletes a namespace: kube-controller-manager deletes its
// ShortLinks, and the manager turns their rows into tombstones.
func TestNamespaceDeletionTombstonesRow(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-doomed")
	apply(t, ns, "doomed", "e2e-doomed", "https://example.com/doomed")
	waitFor(t, "e2e-doomed", http.StatusFound, "https://example.com/doomed")

	kubectl(t, "", "delete", "namespace", ns, "--wait=false")
	eventually(t, "row of a deleted namespace's link", func() string {
		if deleted, found := urlRow(t, "e2e-doomed"); found && !deleted {
			return "the row is still live"
		}
		return ""
	})
	waitFor(t, "e2e-doomed", http.StatusNotFound, "")
	eventually(t, "namespace gone", func() string {
		if _, err := platform.Kubectl(context.Background(), nil, "get", "namespace", ns); err == nil {
			return "namespace " + ns + " still exists"
		}
		return ""
	})
}

// TestVisitsReachStatus makes visits through the redirector and waits for the rollup to
// write them into status. They come from Go's HTTP client, a script: status.botVisits counts
// them and status.visits, people's visits, stays 0 (TestBotsAndPeopleCountApart has people).
func TestVisitsReachStatus(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-visits")
	apply(t, ns, "counted", "e2e-counted", "https://example.com/counted")
	waitFor(t, "e2e-counted", http.StatusFound, "https://example.com/counted")
	const visits = 7
	for range visits {
		status, _, err := platform.Request(context.Background(), http.MethodGet, platform.DefaultDomain(), "/e2e-counted")
		if err != nil || status != http.StatusFound {
			t.Fatalf("GET /e2e-counted = %d, %v", status, err)
		}
	}
	eventually(t, "status.visits", func() string {
		if st := shortLink(t, ns, "counted").Status; st.BotVisits != visits || st.Visits != 0 {
			return fmt.Sprintf("status.botVisits = %d, visits = %d; want %d, 0", st.BotVisits, st.Visits, visits)
		}
		return ""
	})
}

// TestSameCodeInTwoNamespaces declares one code twice: one claim redirects, the other
// reports CodeConflict.
func TestSameCodeInTwoNamespaces(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	a, b := namespace(t, "e2e-team-a"), namespace(t, "e2e-team-b")
	apply(t, a, "shared", "e2e-shared", "https://a.example.com/")
	apply(t, b, "shared", "e2e-shared", "https://b.example.com/")
	var holder *linksv1.ShortLink
	eventually(t, "one holder and one CodeConflict", func() string {
		holder = nil
		conflicts := 0
		for _, ns := range []string{a, b} {
			sl := shortLink(t, ns, "shared")
			ready := meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady)
			switch {
			case ready == nil || ready.ObservedGeneration != sl.Generation:
				return ns + ": Ready not yet reported"
			case ready.Status == "True":
				holder = sl
			case ready.Reason == linksv1.ReasonCodeConflict:
				conflicts++
			}
		}
		if holder == nil || conflicts != 1 {
			return fmt.Sprintf("holder %v, %d conflicts", holder != nil, conflicts)
		}
		return ""
	})
	waitFor(t, "e2e-shared", http.StatusFound, string(holder.Spec.Target))
}
