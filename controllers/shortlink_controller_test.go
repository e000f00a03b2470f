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

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

func TestCreateWritesRowKeyAndStatus(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "docs", linksv1.ShortLinkSpec{Target: "https://Example.com/Docs", Tags: []string{"a"}}))
	got := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)

	if got.Status.Code != "docs" || got.Status.URL != "https://sho.rt/docs" {
		t.Errorf("status code, url = %q, %q", got.Status.Code, got.Status.URL)
	}
	if !controllerutil.ContainsFinalizer(got, finalizerName) {
		t.Error("finalizer not added")
	}
	r, ok := row(t, "", "docs")
	if !ok || r.Deleted || r.Target != "https://example.com/Docs" || r.Owner != ns+"/docs" ||
		r.OwnerUID != string(got.UID) || r.InstallID != testInstallID || r.RedirectType != 302 || r.Version < 1 {
		t.Fatalf("row = %+v, %v", r, ok)
	}
	waitFor(t, "Cached=True", func() (bool, string) {
		c := condition(get(t, sl), linksv1.ConditionCached)
		return c != nil && c.Status == metav1.ConditionTrue, "no Cached=True"
	})
	e, ok := cacheEntry("docs")
	if !ok || e.Deleted || e.Link.Version != r.Version || e.Link.Target != r.Target {
		t.Fatalf("redis entry = %+v, %v; want version %d", e, ok, r.Version)
	}
}

func TestLinkOnAServedDomain(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "d", linksv1.ShortLinkSpec{Target: "https://example.com/", Domain: "go.example.com", Code: "promo"}))
	got := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if got.Status.URL != "https://go.example.com/promo" {
		t.Errorf("url = %q", got.Status.URL)
	}
	if _, ok := row(t, "go.example.com", "promo"); !ok {
		t.Fatal("no row for go.example.com/promo")
	}
	unserved := create(t, shortLink(ns, "u", linksv1.ShortLinkSpec{Target: "https://example.com/", Domain: "other.example.com", Code: "promo"}))
	got = waitReady(t, unserved, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
	if c := condition(got, linksv1.ConditionReady); !strings.Contains(c.Message, "not served") {
		t.Errorf("message = %q", c.Message)
	}
	if _, ok := row(t, "other.example.com", "promo"); ok {
		t.Error("a row was written for an unserved domain")
	}
}

// spec.maxVisits reaches the row and the Redis entry, which the redirectors enforce it from
// (issue 18 item 4).
func TestMaxVisitsReachesRowAndKey(t *testing.T) {
	ns := newNamespace(t)
	limit := int64(5)
	sl := create(t, shortLink(ns, "limited", linksv1.ShortLinkSpec{Target: "https://example.com/", MaxVisits: &limit}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if r, ok := row(t, "", "limited"); !ok || r.MaxVisits != 5 {
		t.Fatalf("row = %+v, %v; want maxVisits 5", r, ok)
	}
	waitFor(t, "maxVisits in redis", func() (bool, string) {
		e, _ := cacheEntry("limited")
		return e.Link.MaxVisits == 5, fmt.Sprint(e.Link.MaxVisits)
	})
}

func TestUpdateWritesNewVersionAndPublishesOnce(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "upd", linksv1.ShortLinkSpec{Target: "https://example.com/v1"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	before, _ := row(t, "", "upd")

	sub := linkCache.Subscribe(context.Background())
	defer func() { _ = sub.Close() }()
	waitSubscribed(t, sub)
	cur := get(t, sl)
	cur.Spec.Target = "https://example.com/v2"
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new target in the row", func() (bool, string) {
		r, _ := row(t, "", "upd")
		return r.Target == "https://example.com/v2", r.Target
	})
	after, _ := row(t, "", "upd")
	if after.Version <= before.Version {
		t.Fatalf("version %d after update, was %d", after.Version, before.Version)
	}
	waitFor(t, "new version in redis", func() (bool, string) {
		e, _ := cacheEntry("upd")
		return e.Link.Version == after.Version && e.Link.Target == "https://example.com/v2", e.Link.Target
	})
	msgs := collectInvalidations(sub, "upd", 3*time.Second)
	if len(msgs) != 1 || msgs[0].Version != after.Version {
		t.Fatalf("invalidations for upd = %+v, want exactly one at version %d", msgs, after.Version)
	}
}

func TestDeleteTombstonesRowAndKey(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "gone", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	held, _ := row(t, "", "gone")
	if err := k8s.Delete(context.Background(), sl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ShortLink to go", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sl), &linksv1.ShortLink{})
		return client.IgnoreNotFound(err) == nil && err != nil, "still there (finalizer not removed?)"
	})
	r, ok := row(t, "", "gone")
	if !ok || !r.Deleted || r.Version <= held.Version {
		t.Fatalf("row after delete = %+v, %v; want a tombstone newer than %d", r, ok, held.Version)
	}
	e, ok := cacheEntry("gone")
	if ok && !e.Deleted {
		t.Fatalf("redis still serves the deleted link: %+v", e)
	}
}

func TestOldestClaimHoldsTheCodeAndTheNextTakesOver(t *testing.T) {
	nsA, nsB := newNamespace(t), newNamespace(t)
	code := "shared-" + nsA
	older := create(t, shortLink(nsA, "first", linksv1.ShortLinkSpec{Target: "https://a.example.com/", Code: code}))
	waitReady(t, older, metav1.ConditionTrue, linksv1.ReasonSynced)
	// creationTimestamp has a resolution of one second: make the order unambiguous.
	time.Sleep(1100 * time.Millisecond)
	newer := create(t, shortLink(nsB, "second", linksv1.ShortLinkSpec{Target: "https://b.example.com/", Code: code}))
	got := waitReady(t, newer, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
	if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, nsA+"/first") {
		t.Fatalf("conflict message %q does not name the holder", msg)
	}
	if r, _ := row(t, "", code); r.Target != "https://a.example.com/" {
		t.Fatalf("row target = %q, the newer claimant overwrote the holder", r.Target)
	}
	waitFor(t, "a CodeConflict event on the newer claimant", func() (bool, string) {
		var evs eventsv1.EventList
		if err := k8s.List(context.Background(), &evs, client.InNamespace(nsB)); err != nil {
			return false, err.Error()
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == "second" && ev.Reason == linksv1.ReasonCodeConflict && ev.Type == "Warning" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none a CodeConflict warning", len(evs.Items))
	})
	if err := k8s.Delete(context.Background(), older); err != nil {
		t.Fatal(err)
	}
	// The suite's manager resyncs hourly: only the rival watch can make this happen in time.
	waitReady(t, newer, metav1.ConditionTrue, linksv1.ReasonSynced)
	r, _ := row(t, "", code)
	if r.Target != "https://b.example.com/" || r.OwnerUID != string(newer.UID) || r.Deleted {
		t.Fatalf("after takeover row = %+v", r)
	}
}

// A new link's first sync is told by its status alone, with no event: an event is an API
// write, one per link of an import. Transitions still are told: a link that takes a code
// over after a conflict gets its Synced event.
func TestFirstSyncEmitsNoEventButATakeoverDoes(t *testing.T) {
	ns := newNamespace(t)
	code := "evt-" + ns
	holder := create(t, shortLink(ns, "holder", linksv1.ShortLinkSpec{Target: "https://a.example.com/", Code: code}))
	waitReady(t, holder, metav1.ConditionTrue, linksv1.ReasonSynced)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has a resolution of one second
	rival := create(t, shortLink(ns, "rival", linksv1.ShortLinkSpec{Target: "https://b.example.com/", Code: code}))
	waitReady(t, rival, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
	if err := k8s.Delete(context.Background(), holder); err != nil {
		t.Fatal(err)
	}
	waitReady(t, rival, metav1.ConditionTrue, linksv1.ReasonSynced)
	var evs eventsv1.EventList
	// Events are sent in order: once the takeover's is there, the holder's would be too.
	waitFor(t, "a Synced event on the rival that took the code over", func() (bool, string) {
		if err := k8s.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == "rival" && ev.Reason == linksv1.ReasonSynced && ev.Type == "Normal" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none a Synced on the rival", len(evs.Items))
	})
	for _, ev := range evs.Items {
		if ev.Regarding.Name == "holder" {
			t.Errorf("the holder's first sync made an event: %s %s %q", ev.Type, ev.Reason, ev.Note)
		}
	}
}

// A code made through the create API is held like any other: a ShortLink claiming it later
// waits with CodeConflict naming api, and the API's link keeps redirecting where it did.
func TestShortLinkClaimingAnAPIMadeCodeConflicts(t *testing.T) {
	ns := newNamespace(t)
	code := "held-" + ns
	made, err := db.CreateAPILink(context.Background(), links.Link{Code: code, Target: "https://api.example.com/", RedirectType: 302})
	if err != nil {
		t.Fatal(err)
	}
	sl := create(t, shortLink(ns, "late", linksv1.ShortLinkSpec{Target: "https://declared.example.com/", Code: code}))
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
	if msg := condition(got, linksv1.ConditionReady).Message; !strings.Contains(msg, "is held by api,") {
		t.Fatalf("conflict message %q does not name the API as the holder", msg)
	}
	if r, _ := row(t, "", code); r.Target != "https://api.example.com/" || r.Source != "api" || r.Version != made.Version {
		t.Fatalf("row = %+v; the ShortLink overwrote the API's link", r)
	}
}

func TestRestoredShortLinkTakesBackItsRow(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "restored", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	first := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	// Lose the object without its finalizer running, as an etcd restore or a forced delete does.
	orig := first.DeepCopy()
	controllerutil.RemoveFinalizer(first, finalizerName)
	if err := k8s.Patch(context.Background(), first, client.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the object to go", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sl), &linksv1.ShortLink{})
		return err != nil, "still there"
	})
	if r, _ := row(t, "", "restored"); r.OwnerUID != string(first.UID) || r.Deleted {
		t.Fatalf("row = %+v; the test needs the old row left behind", r)
	}
	again := create(t, shortLink(ns, "restored", linksv1.ShortLinkSpec{Target: "https://example.com/restored"}))
	got := waitReady(t, again, metav1.ConditionTrue, linksv1.ReasonSynced)
	r, _ := row(t, "", "restored")
	if r.OwnerUID != string(got.UID) || r.Target != "https://example.com/restored" {
		t.Fatalf("row after restore = %+v, want it held by the new UID %s", r, got.UID)
	}
}

func TestRefusedTargetsWriteNothing(t *testing.T) {
	ns := newNamespace(t)
	setBlocklist(t, "evil.example")
	cases := []struct {
		name, target, reason string
	}{
		{"homograph", "https://pаypal.com/login", linksv1.ReasonInvalidTarget},
		{"user info", "https://user:pw@example.com/", linksv1.ReasonInvalidTarget},
		{"blocked", "https://login.evil.example/x", linksv1.ReasonBlocked},
		{"own domain loop", "https://sho.rt/other", linksv1.ReasonBlocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := strings.ReplaceAll(tc.name, " ", "-")
			sl := create(t, shortLink(ns, code, linksv1.ShortLinkSpec{Target: linksv1.TargetURL(tc.target)}))
			waitReady(t, sl, metav1.ConditionFalse, tc.reason)
			if r, ok := row(t, "", code); ok {
				t.Fatalf("row written for a refused target: %+v", r)
			}
			if _, ok := cacheEntry(code); ok {
				t.Fatal("redis entry written for a refused target")
			}
		})
	}
}

func TestBlocklistChangeBlocksExistingLinks(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "soon-bad", linksv1.ShortLinkSpec{Target: "https://www.turned-bad.example/"}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	setBlocklist(t, "turned-bad.example")
	waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonBlocked)
	r, ok := row(t, "", "soon-bad")
	if !ok || !r.Deleted {
		t.Fatalf("row of a newly blocked link = %+v, %v; want a tombstone", r, ok)
	}
	if e, ok := cacheEntry("soon-bad"); ok && !e.Deleted {
		t.Fatalf("redis still serves the blocked link: %+v", e)
	}
}

func TestPostgresOutageIsReportedAndRecovered(t *testing.T) {
	ns := newNamespace(t)
	startPostgres := localenv.StopForTest(t, env.Postgres)
	sl := create(t, shortLink(ns, "outage", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonDatabaseUnavailable)
	if got.Status.ObservedGeneration == got.Generation {
		t.Error("observedGeneration bumped although the spec was not synced")
	}
	startPostgres()
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if _, ok := row(t, "", "outage"); !ok {
		t.Fatal("no row after PostgreSQL came back")
	}
}

func TestRedisOutageKeepsReadyAndIsRepaired(t *testing.T) {
	ns := newNamespace(t)
	startRedis := localenv.StopForTest(t, env.Redis)
	sl := create(t, shortLink(ns, "nocache", linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	got := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	waitFor(t, "Cached=False", func() (bool, string) {
		got = get(t, sl)
		c := condition(got, linksv1.ConditionCached)
		return c != nil && c.Status == metav1.ConditionFalse, "Cached not False"
	})
	startRedis()
	waitFor(t, "Cached=True and the key written", func() (bool, string) {
		c := condition(get(t, sl), linksv1.ConditionCached)
		_, ok := cacheEntry("nocache")
		return c != nil && c.Status == metav1.ConditionTrue && ok, "not yet"
	})
}

// collectInvalidations gathers the messages for code arriving within window.
func collectInvalidations(sub *cache.Subscriber, code string, window time.Duration) []cache.Invalidation {
	var got []cache.Invalidation
	deadline := time.After(window)
	for {
		select {
		case inv := <-sub.Invalidations():
			if inv.Code == code {
				got = append(got, inv)
			}
		case <-deadline:
			return got
		}
	}
}

// waitSubscribed waits for the subscription to be established, so no message is missed.
func waitSubscribed(t *testing.T, sub *cache.Subscriber) {
	t.Helper()
	select {
	case <-sub.Resync():
	case <-time.After(eventually):
		t.Fatal("subscription not established")
	}
}

func mustExec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestDomainChangeReleasesTheOldRow(t *testing.T) {
	ns := newNamespace(t)
	code := "moving-" + ns
	sl := create(t, shortLink(ns, "moving", linksv1.ShortLinkSpec{Target: "https://example.com/", Code: code}))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	cur := get(t, sl)
	cur.Spec.Domain = "go.example.com"
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	got := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	if got.Status.URL != "https://go.example.com/"+code {
		t.Fatalf("url = %q", got.Status.URL)
	}
	if r, ok := row(t, "go.example.com", code); !ok || r.Deleted {
		t.Fatalf("new row = %+v, %v", r, ok)
	}
	if r, ok := row(t, "", code); !ok || !r.Deleted {
		t.Fatalf("old row on the default domain = %+v, %v; want a tombstone", r, ok)
	}
	if e, ok := cacheEntry(code); ok && !e.Deleted {
		t.Fatalf("redis still serves the old domain: %+v", e)
	}
}
