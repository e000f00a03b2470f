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
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// replicaOptions are a redirector replica whose in-process entries and floors live briefly, so
// that after them only Redis and PostgreSQL decide what it serves.
var replicaOptions = redirect.Options{
	PollInterval: 50 * time.Millisecond, LocalTTL: time.Second, NegativeTTL: 200 * time.Millisecond,
	FloorTTL: time.Millisecond, BreakerCoolDown: 500 * time.Millisecond,
}

// floorOutlived is longer than the floor of replicaOptions (raised to its minimum, see
// redirect.Options), its in-process TTLs and a breaker cool-down together.
const floorOutlived = 4 * time.Second

// Changes written while Redis hangs — an API link deleted and one patched, which only
// PostgreSQL hears of, and a ShortLink deleted by a manager whose Redis write failed — reach
// Redis once it resumes, so no replica serves the stale entry after its floor has gone: not
// those that saw the changes, nor one started after the outage.
func TestRedisAgreesWithPostgresAfterAHang(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	replicas := make([]http.Handler, 0, 3) // a third joins after the outage
	for range 2 {
		replicas = append(replicas, f.server(f.resolver(replicaOptions, false, nil), redirect.Config{}))
	}
	apiDel := f.createAPILink("apidel", "https://example.com/del")
	apiPatch := f.createAPILink("apipatch", "https://example.com/old")
	slDel := f.declare(link("sldel", "https://example.com/sl"))
	for _, h := range replicas {
		for _, l := range []links.Link{apiDel, apiPatch, slDel} {
			if got := location(h, l.Code); got != l.Target {
				t.Fatalf("before the hang: %s = %q", l.Code, got)
			}
		}
	}

	resume := f.env.Redis.Hang(t)
	// Write once the replicas have given up on Redis: a heal sent before that waits in Redis's
	// socket and runs when it resumes, which is not what this test is about.
	eventually(t, "the replicas to open their Redis breaker", func() bool {
		return f.metric("shortlink_dependency_up", map[string]string{"dependency": "redis"}) == 0
	})
	delVersion := f.sqlVersion(`UPDATE urls SET deleted = true, version = nextval('urls_version_seq'), updated_at = now()
		WHERE domain = '' AND code = 'apidel' RETURNING version`)
	patchVersion := f.sqlVersion(`UPDATE urls SET target = 'https://example.com/new', version = nextval('urls_version_seq'),
		updated_at = now() WHERE domain = '' AND code = 'apipatch' RETURNING version`)
	slVersion, ok, err := f.writer.DeleteDeclared(ctx, "", "sldel", slDel.OwnerUID)
	if err != nil || !ok {
		t.Fatalf("delete the ShortLink's row: %v, %v", ok, err)
	}
	want := map[string]string{"apidel": "Not Found", "apipatch": "https://example.com/new", "sldel": "Not Found"}
	for _, h := range replicas {
		eventually(t, "the changes served while Redis hangs", func() bool { return serves(h, want) })
	}
	resume()
	resumed := time.Now()
	eventually(t, "Redis to hold every change", func() bool {
		return f.redisHolds("apidel", delVersion, true) && f.redisHolds("apipatch", patchVersion, false) &&
			f.redisHolds("sldel", slVersion, true)
	})
	t.Logf("Redis healed %v after it resumed (docs/benchmarks.md reports it; not asserted)", time.Since(resumed))
	time.Sleep(floorOutlived) // not an assertion: past it, a stale Redis entry would be served
	replicas = append(replicas, f.server(f.resolver(replicaOptions, false, nil), redirect.Config{}))
	for i, h := range replicas {
		if !serves(h, want) {
			t.Errorf("replica %d after the hang: apidel %q, apipatch %q, sldel %q", i,
				location(h, "apidel"), location(h, "apipatch"), location(h, "sldel"))
		}
	}
}

// createAPILink writes a link as the create API does, and puts it in Redis as a fill would.
func (f *fixture) createAPILink(code, target string) links.Link {
	f.t.Helper()
	l := links.Link{Code: code, Target: target, RedirectType: http.StatusFound, Source: links.SourceAPI}
	l.Version = f.sqlVersion(`INSERT INTO urls (domain, code, target, source, created_at, version)
		VALUES ('', '` + code + `', '` + target + `', 'api', now(), nextval('urls_version_seq')) RETURNING version`)
	f.setRedis(l)
	return l
}

// sqlVersion runs a write that returns the version it drew, as the create API's statements do.
func (f *fixture) sqlVersion(sql string) int64 {
	f.t.Helper()
	var v int64
	if err := f.writer.Pool().QueryRow(context.Background(), sql).Scan(&v); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// redisHolds reports whether Redis holds code at version, as a tombstone when deleted.
func (f *fixture) redisHolds(code string, version int64, deleted bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e, err := f.cache.Get(ctx, "", code)
	return err == nil && e.Link.Version == version && e.Deleted == deleted
}

// serves reports whether h answers every code with the wanted Location or status text.
func serves(h http.Handler, want map[string]string) bool {
	for code, w := range want {
		if location(h, code) != w {
			return false
		}
	}
	return true
}

// Two 1,000-link batches and a PATCH commit in the reverse of the order their versions were
// drawn, the PATCH and the first batch more than 1,000 versions behind what the replicas had
// already read. Every replica sees every row: each batch code it had answered 404 becomes a
// redirect, and the PATCH's target replaces the one it had cached.
func TestChangeFeedSeesEveryRowOfConcurrentBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	opts := redirect.Options{PollInterval: 50 * time.Millisecond, LocalTTL: time.Hour, NegativeTTL: time.Hour}
	replicas := []http.Handler{
		f.server(f.resolver(opts, false, nil), redirect.Config{}),
		f.server(f.resolver(opts, false, nil), redirect.Config{}),
	}
	f.declare(link("patched", "https://example.com/before"))
	const perBatch = 1000
	codes := make([]string, 0, 2*perBatch)
	for _, batch := range []string{"a", "b"} {
		for i := range perBatch {
			codes = append(codes, fmt.Sprintf("%s%d", batch, i))
		}
	}
	for _, h := range replicas {
		if location(h, "patched") != "https://example.com/before" {
			t.Fatal("the link to patch is not served")
		}
		for _, code := range codes {
			if got := location(h, code); got != "Not Found" {
				t.Fatalf("%s before the batches = %q", code, got)
			}
		}
	}

	patch := f.begin(`UPDATE urls SET target = 'https://example.com/after', version = nextval('urls_version_seq')
		WHERE domain = '' AND code = 'patched'`)
	batchA := f.begin(batchSQL, "a", perBatch)
	batchB := f.begin(batchSQL, "b", perBatch)
	f.commit(batchB)
	for _, h := range replicas {
		eventually(t, "the last batch's rows to be polled", func() bool { return location(h, "b999") == batchTarget("b999") })
	}
	f.commit(batchA)
	f.commit(patch)

	for i, h := range replicas {
		eventually(t, fmt.Sprintf("replica %d to see every row", i), func() bool {
			if location(h, "patched") != "https://example.com/after" {
				return false
			}
			for _, code := range codes {
				if location(h, code) != batchTarget(code) {
					return false
				}
			}
			return true
		})
	}
}

// While an older writer stays open, every poll reads again every change committed after it
// began (the feed's cursor cannot pass a transaction still running), yet each change is
// applied once: shortlink_invalidations_total{source="poll"} counts exactly the rows written,
// after many polls have read them again, and after the old writer commits.
func TestChangeFeedAppliesEachChangeOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.resolver(redirect.Options{PollInterval: 20 * time.Millisecond}, false, nil)
	polled := func() float64 { return f.metric("shortlink_invalidations_total", map[string]string{"source": "poll"}) }
	want := 0.0
	commit := func(batch string, rows int) {
		f.commit(f.begin(batchSQL, batch, rows))
		want += float64(rows)
		eventually(t, fmt.Sprintf("batch %s to be applied", batch), func() bool { return polled() >= want })
	}

	held := f.begin(batchSQL, "held", 1) // holds the feed's cursor before every later batch
	for _, batch := range []string{"a", "b", "c"} {
		commit(batch, 100)
	}
	for i := range 5 { // each marker is applied by a poll that also read a, b and c again
		commit(fmt.Sprint("marker", i, "-"), 1)
	}
	if got := polled(); got != want {
		t.Fatalf("after polls that read the batches again: %v changes applied, want %v", got, want)
	}
	f.commit(held)
	want++
	eventually(t, "the held batch to be applied", func() bool { return polled() >= want })
	commit("last", 1) // applied by a poll after the one that applied the held batch
	if got := polled(); got != want {
		t.Fatalf("after the held writer committed: %v changes applied, want %v", got, want)
	}
}

// batchSQL inserts a batch of API links as one statement, each row drawing its own version.
const batchSQL = `INSERT INTO urls (domain, code, target, source, created_at, version)
	SELECT '', $1 || g, 'https://example.com/' || $1 || g, 'api', now(), nextval('urls_version_seq')
	FROM generate_series(0, $2::int - 1) g`

func batchTarget(code string) string { return "https://example.com/" + code }

// begin runs sql in a transaction it leaves open, rolled back at the end unless committed.
func (f *fixture) begin(sql string, args ...any) pgx.Tx {
	f.t.Helper()
	ctx := context.Background()
	tx, err := f.writer.Pool().Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return tx
}

func (f *fixture) commit(tx pgx.Tx) {
	f.t.Helper()
	if err := tx.Commit(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}
