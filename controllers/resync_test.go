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
	"sigs.k8s.io/controller-runtime/pkg/event"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// setBlocklist swaps the URL policy as the manager's blocklist watcher does, and restores the
// previous one when the test ends.
func setBlocklist(t *testing.T, blocked ...string) {
	t.Helper()
	p, err := links.NewPolicy([]string{testDefaultDomain, "go.example.com"}, blocked)
	if err != nil {
		t.Fatal(err)
	}
	prev := policy.Swap(p)
	policyCh <- event.GenericEvent{Object: &linksv1.ShortLink{}}
	t.Cleanup(func() { policy.Store(prev) })
}

// driftManager runs a second manager, resyncing every testResync, over one namespace only.
func driftManager(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, err := runManager(ctx, testResync, ns)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
}

func TestResyncRepairsDrift(t *testing.T) {
	ns := newNamespace(t)
	a := create(t, shortLink(ns, "drift-row", linksv1.ShortLinkSpec{Target: "https://example.com/a"}))
	b := create(t, shortLink(ns, "drift-edit", linksv1.ShortLinkSpec{Target: "https://example.com/b"}))
	c := create(t, shortLink(ns, "drift-key", linksv1.ShortLinkSpec{Target: "https://example.com/c"}))
	for _, sl := range []*linksv1.ShortLink{a, b, c} {
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	}
	waitFor(t, "keys in redis", func() (bool, string) {
		_, ok := cacheEntry("drift-key")
		return ok, "missing"
	})
	mustExec(t, `DELETE FROM urls WHERE domain = '' AND code = 'drift-row'`)
	mustExec(t, `UPDATE urls SET target = 'https://attacker.example/' WHERE domain = '' AND code = 'drift-edit'`)
	if err := rdb.Del(context.Background(), "shortlink:link::drift-key").Err(); err != nil {
		t.Fatal(err)
	}
	driftManager(t, ns)
	waitFor(t, "the deleted row back", func() (bool, string) {
		r, ok := row(t, "", "drift-row")
		return ok && r.Target == "https://example.com/a", "absent"
	})
	waitFor(t, "the edited row repaired", func() (bool, string) {
		r, _ := row(t, "", "drift-edit")
		return r.Target == "https://example.com/b", r.Target
	})
	waitFor(t, "the deleted key back", func() (bool, string) {
		e, ok := cacheEntry("drift-key")
		return ok && e.Link.Target == "https://example.com/c", "absent"
	})
	waitFor(t, "the edited row's key repaired too", func() (bool, string) {
		e, _ := cacheEntry("drift-edit")
		return e.Link.Target == "https://example.com/b", e.Link.Target
	})
}

func TestUnchangedResyncWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	sls := make([]*linksv1.ShortLink, 0, 3)
	for _, name := range []string{"still-a", "still-b", "still-c"} {
		sls = append(sls, create(t, shortLink(ns, name, linksv1.ShortLinkSpec{Target: linksv1.TargetURL("https://example.com/" + name)})))
	}
	for _, sl := range sls {
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	}
	waitFor(t, "keys in redis", func() (bool, string) {
		_, ok := cacheEntry("still-c")
		return ok, "missing"
	})
	sub := linkCache.Subscribe(context.Background())
	defer func() { _ = sub.Close() }()
	waitSubscribed(t, sub)
	rowsBefore, writesBefore := rowVersions(t), redisWrites(t)
	rvBefore := resourceVersions(t, sls)

	driftManager(t, ns)
	time.Sleep(3 * testResync) // several resyncs of every link in ns

	if got := rowVersions(t); got != rowsBefore {
		t.Errorf("rows changed during unchanged resyncs:\nbefore %s\nafter  %s", rowsBefore, got)
	}
	if got := redisWrites(t); got != writesBefore {
		t.Errorf("redis write commands went from %d to %d during unchanged resyncs", writesBefore, got)
	}
	if got := resourceVersions(t, sls); got != rvBefore {
		t.Errorf("apiserver objects written during unchanged resyncs: %s -> %s", rvBefore, got)
	}
	if msgs := collectInvalidations(sub, "still-a", 100*time.Millisecond); len(msgs) != 0 {
		t.Errorf("invalidations published during unchanged resyncs: %+v", msgs)
	}
}

// rowVersions fingerprints every row by its physical version (xmin changes on any update).
func rowVersions(t *testing.T) string {
	t.Helper()
	var s string
	err := db.Pool().QueryRow(context.Background(),
		`SELECT coalesce(string_agg(domain || '/' || code || '@' || xmin::text || ':' || version, ',' ORDER BY domain, code), '') FROM urls`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// redisWrites counts the write commands Redis has executed (SET, scripts, DEL).
func redisWrites(t *testing.T) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, line := range strings.Split(info, "\n") {
		for _, cmd := range []string{"cmdstat_set:", "cmdstat_evalsha:", "cmdstat_eval:", "cmdstat_del:", "cmdstat_publish:"} {
			if strings.HasPrefix(line, cmd) {
				var calls int
				if _, err := fmt.Sscanf(strings.TrimPrefix(line, cmd), "calls=%d", &calls); err == nil {
					total += calls
				}
			}
		}
	}
	return total
}

func resourceVersions(t *testing.T, sls []*linksv1.ShortLink) string {
	t.Helper()
	parts := make([]string, 0, len(sls))
	for _, sl := range sls {
		parts = append(parts, get(t, sl).ResourceVersion)
	}
	return strings.Join(parts, ",")
}
