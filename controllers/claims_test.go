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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Issue 11: who holds a code. The holder rule is DESIGN.md §3.

// A ShortLink whose target was refused keeps its old creationTimestamp; once fixed, it must
// not take the code from the live holder that took it meanwhile. It takes over, from zero
// visits, only when that holder goes.
func TestFixedRefusedClaimDoesNotDisplaceTheHolder(t *testing.T) {
	nsA, nsB := newNamespace(t), newNamespace(t)
	code := "refused-" + nsA
	older := create(t, shortLink(nsA, "old", linksv1.ShortLinkSpec{Target: "https://pаypal.example.com/", Code: code}))
	waitReady(t, older, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
	newer := holdAfterASecond(t, nsB, code, linksv1.ShortLinkSpec{})

	cur := get(t, older)
	cur.Spec.Target = "https://a.example.com/"
	update(t, cur)
	assertStillHeld(t, older, newer, "", code)

	if err := k8s.Delete(context.Background(), newer); err != nil {
		t.Fatal(err)
	}
	waitReady(t, older, metav1.ConditionTrue, linksv1.ReasonSynced)
	if r, _ := row(t, "", code); r.OwnerUID != string(older.UID) || r.Target != "https://a.example.com/" || r.Deleted {
		t.Fatalf("after the holder went, row = %+v; want it held by %s", r, older.UID)
	}
	if n := codeVisits(t, "", code); n != 0 {
		t.Fatalf("visits after the takeover = %d, want 0", n)
	}
}

// The same for a ShortLink whose spec.domain was not served, moved onto the held code.
func TestServedDomainFixDoesNotDisplaceTheHolder(t *testing.T) {
	nsA, nsB := newNamespace(t), newNamespace(t)
	code := "unserved-" + nsA
	older := create(t, shortLink(nsA, "old", linksv1.ShortLinkSpec{Target: "https://a.example.com/", Code: code, Domain: "unserved.example"}))
	waitReady(t, older, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
	newer := holdAfterASecond(t, nsB, code, linksv1.ShortLinkSpec{Domain: "go.example.com"})

	cur := get(t, older)
	cur.Spec.Domain = "go.example.com"
	update(t, cur)
	assertStillHeld(t, older, newer, "go.example.com", code)
}

// holdAfterASecond creates, a second after everything before it (creationTimestamp has whole
// seconds), a ShortLink that takes code, and counts 7 visits for it.
func holdAfterASecond(t *testing.T, ns, code string, spec linksv1.ShortLinkSpec) *linksv1.ShortLink {
	t.Helper()
	time.Sleep(1100 * time.Millisecond)
	spec.Target, spec.Code = "https://b.example.com/", code
	sl := create(t, shortLink(ns, "new", spec))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	mustExec(t, `INSERT INTO url_stats (domain, code, visits) VALUES ($1, $2, 7)`, spec.Domain, code)
	return sl
}

// assertStillHeld checks that claimant, older and now eligible, waits with CodeConflict naming
// holder, and that the row and its visits are untouched.
func assertStillHeld(t *testing.T, claimant, holder *linksv1.ShortLink, domain, code string) {
	t.Helper()
	got := waitReady(t, claimant, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
	if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, holder.Namespace+"/"+holder.Name) {
		t.Fatalf("conflict message %q does not name the holder", msg)
	}
	if r, _ := row(t, domain, code); r.OwnerUID != string(holder.UID) || r.Target != "https://b.example.com/" || r.Deleted {
		t.Fatalf("row = %+v; the dormant claim displaced the live holder", r)
	}
	if n := codeVisits(t, domain, code); n != 7 {
		t.Fatalf("visits = %d, want the holder's 7", n)
	}
	if h := waitReady(t, holder, metav1.ConditionTrue, linksv1.ReasonSynced); h.Status.URL == "" {
		t.Fatal("holder lost its URL")
	}
}

// When nobody holds a code, the oldest eligible claimant takes it, whichever claimant is
// reconciled first. Each ordering is forced by reconciling by hand after the holder's row is
// tombstoned behind the suite manager's back.
func TestFreeCodeGoesToTheOldestClaimantInEitherOrder(t *testing.T) {
	for _, olderFirst := range []bool{false, true} {
		name := map[bool]string{false: "younger reconciled first", true: "older reconciled first"}[olderFirst]
		t.Run(name, func(t *testing.T) {
			ns := newNamespace(t)
			code := "free-" + ns
			ghostHolds(t, code)
			older := create(t, shortLink(ns, "older", linksv1.ShortLinkSpec{Target: "https://a.example.com/", Code: code}))
			waitReady(t, older, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
			time.Sleep(1100 * time.Millisecond)
			younger := create(t, shortLink(ns, "younger", linksv1.ShortLinkSpec{Target: "https://b.example.com/", Code: code}))
			waitReady(t, younger, metav1.ConditionFalse, linksv1.ReasonCodeConflict)

			mustExec(t, `UPDATE urls SET deleted = true, version = nextval('urls_version_seq') WHERE domain = '' AND code = $1`, code)
			order := []*linksv1.ShortLink{younger, older}
			if olderFirst {
				order = []*linksv1.ShortLink{older, younger}
			}
			r := testReconciler(managerClient)
			for _, sl := range order {
				if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sl)}); err != nil {
					t.Fatalf("reconcile %s: %v", sl.Name, err)
				}
			}
			if r, _ := row(t, "", code); r.OwnerUID != string(older.UID) || r.Deleted {
				t.Fatalf("row = %+v; want it held by the older claimant %s", r, older.UID)
			}
			waitReady(t, older, metav1.ConditionTrue, linksv1.ReasonSynced)
			got := waitReady(t, younger, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
			if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, ns+"/older") {
				t.Fatalf("younger's conflict message %q does not name the older claimant", msg)
			}
		})
	}
}

// ghostHolds writes a live k8s row for code held by a ShortLink the API server never had, as
// an older installation's row would be.
func ghostHolds(t *testing.T, code string) {
	t.Helper()
	mustExec(t, `INSERT INTO urls (domain, code, target, source, owner, owner_uid, install_id, created_at)
		VALUES ('', $1, 'https://ghost.example.com/', 'k8s', 'ghost/holder', 'ghost-uid', 'ghost-install', now() - interval '1 year')`, code)
}

// testReconciler is a reconciler configured as the suite manager's, for a test to drive by hand.
func testReconciler(c client.Client) *ShortLinkReconciler {
	return &ShortLinkReconciler{
		Client: c, Store: db, Cache: linkCache, Policy: &policy, States: NewLinkStates(),
		Installation: testInstallation(),
	}
}

// Moving a ShortLink off a code gives up its row whatever the new spec's fate: a row left
// live would keep the old short URL redirecting.
func TestDomainMoveReleasesTheOldRowWhateverTheOutcome(t *testing.T) {
	tests := []struct {
		name, domain, reason string
	}{
		{"to an unserved domain", "unserved.example", linksv1.ReasonInvalidTarget},
		{"to a domain where the code is held", "go.example.com", linksv1.ReasonCodeConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace(t)
			code := "move-" + ns
			holder := create(t, shortLink(ns, "holder", linksv1.ShortLinkSpec{Target: "https://h.example.com/", Code: code, Domain: "go.example.com"}))
			waitReady(t, holder, metav1.ConditionTrue, linksv1.ReasonSynced)
			time.Sleep(1100 * time.Millisecond) // the mover is the younger claim
			mover := create(t, shortLink(ns, "mover", linksv1.ShortLinkSpec{Target: "https://m.example.com/", Code: code}))
			waitReady(t, mover, metav1.ConditionTrue, linksv1.ReasonSynced)
			held, _ := row(t, "", code)

			cur := get(t, mover)
			cur.Spec.Domain = tc.domain
			update(t, cur)
			waitReady(t, mover, metav1.ConditionFalse, tc.reason)
			if r, ok := row(t, "", code); !ok || !r.Deleted || r.Version <= held.Version {
				t.Fatalf("old row = %+v, %v; want a tombstone newer than %d", r, ok, held.Version)
			}
			waitFor(t, "the old key to be a tombstone in Redis", func() (bool, string) {
				e, ok := cacheEntry(code)
				return ok && e.Deleted, "still served from Redis"
			})
			if r, _ := row(t, "go.example.com", code); r.OwnerUID != string(holder.UID) || r.Deleted {
				t.Fatalf("holder's row = %+v", r)
			}
		})
	}
}

// status.visits shows the current holder's row only: 0 once the code is lost, and the row of
// the code claimed now when an older row is still live during a domain move.
func TestVisitsAreTheCurrentHoldersRowOnly(t *testing.T) {
	ns := newNamespace(t)
	rollup := (&VisitsRollup{Client: k8s, Totals: db, Installation: testInstallation()}).Run
	runRollup := func() {
		t.Helper()
		if err := rollup(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	visited := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

	lost := create(t, shortLink(ns, "lost", linksv1.ShortLinkSpec{Target: linksv1.TargetURL("https://www.lost-" + ns + ".example/")}))
	waitReady(t, lost, metav1.ConditionTrue, linksv1.ReasonSynced)
	mustExec(t, `INSERT INTO url_stats (domain, code, visits, last_visit_at) VALUES ('', 'lost', 42, $1)`, visited)
	runRollup()
	if got := get(t, lost); got.Status.Visits != 42 {
		t.Fatalf("visits = %d, want 42 before the code is lost", got.Status.Visits)
	}
	setBlocklist(t, "lost-"+ns+".example")
	waitReady(t, lost, metav1.ConditionFalse, linksv1.ReasonBlocked)
	runRollup()
	if got := get(t, lost); got.Status.Visits != 0 || got.Status.LastVisitTime != nil {
		t.Fatalf("visits, last = %d, %v after the code was lost; want 0, none", got.Status.Visits, got.Status.LastVisitTime)
	}

	moved := create(t, shortLink(ns, "moved", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: "moved-" + ns}))
	waitReady(t, moved, metav1.ConditionTrue, linksv1.ReasonSynced)
	cur := get(t, moved)
	cur.Spec.Domain = "go.example.com"
	update(t, cur)
	waitReady(t, moved, metav1.ConditionTrue, linksv1.ReasonSynced)
	// The old row live again, as if its release had not happened yet, with more visits.
	mustExec(t, `UPDATE urls SET deleted = false, version = nextval('urls_version_seq') WHERE domain = '' AND code = $1`, "moved-"+ns)
	mustExec(t, `INSERT INTO url_stats (domain, code, visits, last_visit_at) VALUES ('', $1, 42, $2), ('go.example.com', $1, 5, $2)
		ON CONFLICT (domain, code) DO UPDATE SET visits = EXCLUDED.visits`, "moved-"+ns, visited)
	runRollup()
	if got := get(t, moved); got.Status.Visits != 5 {
		t.Fatalf("visits = %d, want 5: the row of the code claimed now", got.Status.Visits)
	}
}

// A link already False for another reason must back off from its outage's own start: the
// first retry comes after dbRetryMin, then half the outage's age, up to dbRetryMax.
func TestOutageBackoffCountsFromTheOutagesStart(t *testing.T) {
	ns := newNamespace(t)
	code := "backoff-" + ns
	ghostHolds(t, code)
	sl := create(t, shortLink(ns, "backoff", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: code}))
	waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonCodeConflict)

	down, err := store.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=5", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	// An hour later, as if the conflict had lasted that long before PostgreSQL went away.
	clock := time.Now().Add(time.Hour).Truncate(time.Second)
	r := testReconciler(k8s)
	r.Store, r.Now = down, func() time.Time { return clock }
	start := clock
	steps := []struct {
		advance, want time.Duration
	}{
		{0, dbRetryMin},
		{20 * time.Second, 10 * time.Second},
		{10 * time.Minute, dbRetryMax},
	}
	for _, step := range steps {
		clock = clock.Add(step.advance)
		res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sl)})
		if err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter != step.want {
			t.Fatalf("%v into the outage: retry after %v, want %v", clock.Sub(start), res.RequeueAfter, step.want)
		}
		if c := condition(get(t, sl), linksv1.ConditionReady); c.Reason != linksv1.ReasonDatabaseUnavailable {
			t.Fatalf("Ready reason = %s, want %s", c.Reason, linksv1.ReasonDatabaseUnavailable)
		}
	}
}

// After --install-id changes, an otherwise unchanged row is stamped with the new id, so the
// new installation's visits rollup and garbage collection see it.
func TestNewInstallIDRestampsUnchangedRows(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "restamp", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	before, _ := row(t, "", "restamp")

	r := testReconciler(k8s)
	r.Installation.InstallID = "renamed-install"
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sl)}); err != nil {
		t.Fatal(err)
	}
	after, _ := row(t, "", "restamp")
	if after.InstallID != "renamed-install" || after.Version <= before.Version || after.OwnerUID != string(sl.UID) {
		t.Fatalf("row after a reconcile under a new install id = %+v; want re-stamped above version %d", after, before.Version)
	}
	totals, err := db.VisitTotals(context.Background(), "renamed-install")
	if err != nil {
		t.Fatal(err)
	}
	for _, tot := range totals {
		if tot.OwnerUID == string(sl.UID) {
			return
		}
	}
	t.Fatalf("the new installation's visit totals miss the row: %+v", totals)
}

func update(t *testing.T, sl *linksv1.ShortLink) {
	t.Helper()
	if err := k8s.Update(context.Background(), sl); err != nil {
		t.Fatal(err)
	}
}

// codeVisits is the url_stats count of (domain, code); 0 when it has no row.
func codeVisits(t *testing.T, domain, code string) int64 {
	t.Helper()
	var n int64
	err := db.Pool().QueryRow(context.Background(),
		`SELECT coalesce(sum(visits), 0) FROM url_stats WHERE domain = $1 AND code = $2`, domain, code).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Claims that share a bucket of the claim index share its one set (the index keeps a few
// thousand, not one a link), and are not rivals: both hold their own codes.
func TestClaimsSharingAnIndexBucketAreNotRivals(t *testing.T) {
	ns := newNamespace(t)
	first := claim{code: "bucket-" + ns}
	second := first
	for i := 0; second == first || claimBucket(second) != claimBucket(first); i++ {
		second.code = fmt.Sprintf("bucket-%s-%d", ns, i)
	}
	a := create(t, shortLink(ns, first.code, linksv1.ShortLinkSpec{Target: "https://a.example.com/"}))
	b := create(t, shortLink(ns, second.code, linksv1.ShortLinkSpec{Target: "https://b.example.com/"}))
	for _, sl := range []*linksv1.ShortLink{a, b} {
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
		if r, _ := row(t, "", sl.Name); r.OwnerUID != string(sl.UID) || r.Deleted {
			t.Fatalf("row of %s = %+v; want it held by %s", sl.Name, r, sl.UID)
		}
	}
	waitFor(t, "one index value for both claims", func() (bool, string) {
		var list linksv1.ShortLinkList
		err := managerClient.List(context.Background(), &list, client.InNamespace(ns),
			client.MatchingFields{claimIndex: claimBucket(first)})
		if err != nil {
			return false, err.Error()
		}
		return len(list.Items) == 2, fmt.Sprintf("%d ShortLinks under the bucket's value, want 2", len(list.Items))
	})
}
