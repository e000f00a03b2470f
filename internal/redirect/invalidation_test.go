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

package redirect_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// noPoll leaves invalidation to pub/sub alone, for as long as any test runs.
const noPoll = time.Hour

// location returns what GET testHost/code answers: the Location, or the status as text.
func location(h http.Handler, code string) string {
	rec := get(h, "GET", testHost, "/"+code)
	if loc := rec.Header().Get("Location"); loc != "" {
		return loc
	}
	return http.StatusText(rec.Code)
}

func TestInvalidationByPubSub(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{PollInterval: noPoll}, true, nil), redirect.Config{})
	l := f.declare(link("news", "https://example.com/v1"))
	// The subscription may not be up yet, and pub/sub keeps nothing for a late subscriber, so
	// the operator's message is sent again until it lands; applying it twice changes nothing.
	eventually(t, "the first version", func() bool { return location(h, "news") == "https://example.com/v1" })

	l.Target = "https://example.com/v2"
	l = f.declare(l)
	eventually(t, "the changed link", func() bool {
		f.publish("", "news", l.Version)
		return location(h, "news") == "https://example.com/v2"
	})
	v := f.remove(l)
	eventually(t, "the deleted link to answer 404", func() bool {
		f.publish("", "news", v)
		return location(h, "news") == "Not Found"
	})
	if f.metric("shortlink_invalidations_total", map[string]string{"source": "pubsub"}) == 0 {
		t.Fatal("no invalidation counted from pub/sub")
	}
}

// With pub/sub blocked (no subscriber) the change feed alone must bring every change: an update
// (also when Redis still holds the old version), a link made through the API for a code that
// was answered as unknown, and a delete.
func TestInvalidationByChangeFeedPoll(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{
		PollInterval: 50 * time.Millisecond, NegativeTTL: time.Hour, LocalTTL: time.Hour,
	}, false, nil), redirect.Config{})

	l := f.declare(link("feed", "https://example.com/v1"))
	if got := location(h, "feed"); got != "https://example.com/v1" {
		t.Fatalf("first answer = %s", got)
	}
	l.Target = "https://example.com/v2"
	l = f.upsert(l) // PostgreSQL only: Redis keeps v1, no message is sent
	eventually(t, "the update through the change feed", func() bool { return location(h, "feed") == "https://example.com/v2" })
	if e, err := f.cache.Get(context.Background(), "", "feed"); err != nil || e.Link.Version != l.Version {
		t.Fatalf("Redis after the fill = version %d, %v; want %d (repaired by the fill)", e.Link.Version, err, l.Version)
	}

	if got := location(h, "api-made"); got != "Not Found" {
		t.Fatalf("unknown code = %s", got)
	}
	f.upsert(link("api-made", "https://example.com/api"))
	eventually(t, "the new link to replace the negative entry", func() bool {
		return location(h, "api-made") == "https://example.com/api"
	})

	f.exec(`UPDATE urls SET deleted = true, version = nextval('urls_version_seq') WHERE code = 'feed'`)
	eventually(t, "the delete through the change feed", func() bool { return location(h, "feed") == "Not Found" })
	if f.metric("shortlink_invalidations_total", map[string]string{"source": "poll"}) == 0 {
		t.Fatal("no invalidation counted from the poll")
	}
}

// gatedStore is the real store, except that the first lookup of a code is held, after it has
// read the row, until the test releases it: the only way to make a fill read the old row and
// store it after the change was announced, on demand.
type gatedStore struct {
	redirect.DBTier
	code     string
	read     chan struct{} // closed when the held lookup has read
	release  chan struct{}
	heldOnce sync.Once
}

func (g *gatedStore) Lookup(ctx context.Context, domain, code string) (links.Link, error) {
	l, err := g.DBTier.Lookup(ctx, domain, code)
	if code == g.code {
		g.heldOnce.Do(func() { close(g.read); <-g.release })
	}
	return l, err
}

func newGatedStore(f *fixture, code string) *gatedStore {
	return &gatedStore{DBTier: f.reader, code: code, read: make(chan struct{}), release: make(chan struct{})}
}

// The fill race: a fill reads version 1 from PostgreSQL, version 2 is written and announced,
// then the fill completes. Version 1 must not stick in memory, nor replace version 2 in Redis.
func TestFillRaceOldVersionDoesNotStick(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	gate := newGatedStore(f, "race")
	h := f.server(f.resolver(redirect.Options{PollInterval: noPoll, LocalTTL: time.Hour}, true, gate), redirect.Config{})
	applied := waitSubscribed(t, f)
	l := f.upsert(link("race", "https://example.com/old")) // in PostgreSQL only, so the fill reads it there

	first := make(chan string)
	go func() { first <- location(h, "race") }()
	<-gate.read
	l.Target = "https://example.com/new"
	l = f.declare(l)
	eventually(t, "the invalidation to be applied", func() bool { return pubsubInvalidations(f) == applied+1 })
	close(gate.release)
	if got := <-first; got != "https://example.com/old" {
		t.Fatalf("the request whose fill read the old row = %s", got)
	}
	if got := location(h, "race"); got != "https://example.com/new" {
		t.Fatalf("after the fill that read the old row = %s, want the new target", got)
	}
	if e, err := f.cache.Get(context.Background(), "", "race"); err != nil || e.Link.Version != l.Version {
		t.Fatalf("Redis = version %d, %v; want %d", e.Link.Version, err, l.Version)
	}
}

// The same race for a code that did not exist yet: a lookup finds nothing, the link is created
// and announced, then the lookup completes. The code must not stay unknown.
func TestFillRaceNegativeDoesNotStick(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	gate := newGatedStore(f, "fresh")
	h := f.server(f.resolver(redirect.Options{PollInterval: noPoll, NegativeTTL: time.Hour}, true, gate), redirect.Config{})
	applied := waitSubscribed(t, f)

	first := make(chan string)
	go func() { first <- location(h, "fresh") }()
	<-gate.read
	f.declare(link("fresh", "https://example.com/fresh"))
	eventually(t, "the invalidation to be applied", func() bool { return pubsubInvalidations(f) == applied+1 })
	close(gate.release)
	if got := <-first; got != "Not Found" {
		t.Fatalf("the request whose lookup ran before the creation = %s", got)
	}
	if got := location(h, "fresh"); got != "https://example.com/fresh" {
		t.Fatalf("after the late negative fill = %s, want the new link", got)
	}
}

// waitSubscribed waits until the resolver is subscribed and has applied every message sent so
// far, and returns how many invalidations it has counted. PUBLISH says how many subscribers
// took a message, and the fixture's Redis serves this test alone, so the count is exact.
func waitSubscribed(t *testing.T, f *fixture) float64 {
	t.Helper()
	var delivered float64
	eventually(t, "the subscription", func() bool {
		inv := cache.Invalidation{Code: "marker", Version: 1}
		n, err := f.rdb.Publish(context.Background(), cache.Channel, inv.String()).Result()
		if err != nil {
			t.Fatal(err)
		}
		delivered += float64(n)
		return n > 0
	})
	eventually(t, "the markers to be applied", func() bool { return pubsubInvalidations(f) == delivered })
	return delivered
}

func pubsubInvalidations(f *fixture) float64 {
	return f.metric("shortlink_invalidations_total", map[string]string{"source": "pubsub"})
}

// A version is drawn before its transaction commits, so a change can become visible after one
// with a higher version. The poll re-reads a little behind the highest version it has seen and
// must still apply it.
func TestChangeFeedCatchesOutOfOrderCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	h := f.server(f.resolver(redirect.Options{PollInterval: 50 * time.Millisecond, LocalTTL: time.Hour}, false, nil), redirect.Config{})
	f.declare(link("slow", "https://example.com/a1"))
	b := f.declare(link("fast", "https://example.com/b1"))
	if location(h, "slow") != "https://example.com/a1" || location(h, "fast") != "https://example.com/b1" {
		t.Fatal("links not served before the change")
	}

	tx, err := f.writer.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `UPDATE urls SET target = 'https://example.com/a2', version = nextval('urls_version_seq')
		WHERE code = 'slow'`); err != nil {
		t.Fatal(err)
	}
	b.Target = "https://example.com/b2"
	f.upsert(b) // a higher version, committed first
	eventually(t, "the later version to be polled", func() bool { return location(h, "fast") == "https://example.com/b2" })
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the earlier version committed last to be polled", func() bool {
		return location(h, "slow") == "https://example.com/a2"
	})
}

// Redis learns from the change feed what its writer did not tell it — an update and a delete
// written to PostgreSQL only — without any request for the link, so a stale entry cannot
// outlive the change (a later miss of the in-process cache would otherwise read it back).
func TestChangeFeedHealsRedis(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.resolver(redirect.Options{PollInterval: 50 * time.Millisecond}, false, nil)

	l := f.declare(link("heal", "https://example.com/v1"))
	l.Target = "https://example.com/v2"
	l = f.upsert(l) // PostgreSQL only: Redis keeps v1
	eventually(t, "Redis to hold the update", func() bool {
		e, err := f.cache.Get(context.Background(), "", "heal")
		return err == nil && e.Link.Version == l.Version && e.Link.Target == "https://example.com/v2"
	})
	v, ok, err := f.writer.DeleteDeclared(context.Background(), "", "heal", l.OwnerUID)
	if err != nil || !ok {
		t.Fatalf("delete: %v, %v", ok, err)
	}
	eventually(t, "Redis to hold the tombstone", func() bool {
		e, err := f.cache.Get(context.Background(), "", "heal")
		return err == nil && e.Deleted && e.Link.Version == v
	})
}
