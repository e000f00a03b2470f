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

package cache_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
)

func key(domain, code string) string { return "shortlink:link:" + domain + ":" + code }

func TestSetThenGetRoundTripsEveryField(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	summer := time.FixedZone("CEST", 2*60*60)
	for _, tc := range []struct {
		name string
		link links.Link
	}{
		{"every field", links.Link{
			Domain: "go.example.com", Code: "docs", Target: "https://example.com/a?b=c#d", RedirectType: 308,
			ForwardQuery: true, ValidSince: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
			ValidUntil: time.Date(2027, 1, 2, 3, 4, 5, 0, summer), ExpiredTarget: "https://example.com/expired",
			Suspended: true, Tags: []string{"a", "b"}, Source: links.SourceK8s, Owner: "team/docs",
			OwnerUID: "0b7a3c1e-9a52-4b1f-8f5e-0e6c1d2f3a4b", Version: 42,
		}},
		{"zero times and default domain", links.Link{
			Code: "x", Target: "https://example.com/", RedirectType: 302, Source: links.SourceAPI, Version: 1,
		}},
		{"only validUntil", links.Link{
			Code: "until", Target: "https://example.com/", RedirectType: 301,
			ValidUntil: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), Version: 7,
		}},
		{"unicode", links.Link{
			Domain: "xn--mnchen-3ya.de", Code: "Ab-_9", Target: "https://xn--mnchen-3ya.de/%C3%A4", RedirectType: 307,
			Tags: []string{"straße", "日本語", "emoji 🎉", `quote " and | pipe`}, Source: links.SourceK8s,
			Owner: "ns/ünïcode", Version: 9007199254740993,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written, err := c.Set(ctx, tc.link)
			if err != nil || !written {
				t.Fatalf("Set = %v, %v; want true, nil", written, err)
			}
			raw, err := rdb.Get(ctx, key(tc.link.Domain, tc.link.Code)).Result()
			if err != nil || !strings.HasPrefix(raw, strconv.FormatInt(tc.link.Version, 10)+"|\x01") {
				t.Fatalf("stored value = %q, %v; want <version>|<binary payload>", raw, err)
			}
			got, err := c.Get(ctx, tc.link.Domain, tc.link.Code)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Deleted {
				t.Fatal("Get returned a tombstone")
			}
			assertSameLink(t, got.Link, tc.link)
		})
	}
}

// assertSameLink compares times as instants (they come back in UTC) and the rest exactly.
func assertSameLink(t *testing.T, got, want links.Link) {
	t.Helper()
	if !got.ValidSince.Equal(want.ValidSince) || !got.ValidUntil.Equal(want.ValidUntil) {
		t.Errorf("times = %v, %v; want %v, %v", got.ValidSince, got.ValidUntil, want.ValidSince, want.ValidUntil)
	}
	if got.ValidSince.IsZero() != want.ValidSince.IsZero() || got.ValidUntil.IsZero() != want.ValidUntil.IsZero() {
		t.Errorf("zero times not preserved: got %v, %v", got.ValidSince, got.ValidUntil)
	}
	got.ValidSince, got.ValidUntil, want.ValidSince, want.ValidUntil = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("link = %+v\nwant   %+v", got, want)
	}
}

func TestEntriesExpire(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		opts          cache.Options
		wantTTL       time.Duration
		wantTombstone time.Duration
	}{
		{"configured", cache.Options{TTL: time.Hour, TombstoneTTL: time.Minute}, time.Hour, time.Minute},
		{"defaults", cache.Options{}, cache.DefaultTTL, cache.DefaultTombstoneTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rdb := newTestCache(t, tc.opts)
			if _, err := c.Set(ctx, links.Link{Code: "live", Target: "https://example.com/", Version: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Delete(ctx, "", "gone", 2); err != nil {
				t.Fatal(err)
			}
			assertTTL(ctx, t, rdb, key("", "live"), tc.wantTTL)
			assertTTL(ctx, t, rdb, key("", "gone"), tc.wantTombstone)
		})
	}
}

// assertTTL checks that k expires within limit, and not much sooner: no test runs for limit/2.
func assertTTL(ctx context.Context, t *testing.T, rdb *redis.Client, k string, limit time.Duration) {
	t.Helper()
	ttl, err := rdb.PTTL(ctx, k).Result()
	if err != nil || ttl <= limit/2 || ttl > limit {
		t.Fatalf("PTTL %s = %v, %v; want in (%v, %v]", k, ttl, err, limit/2, limit)
	}
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	if _, err := c.Delete(ctx, "go.example.com", "gone", 3); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, key("", "junk"), "not an entry", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, key("", "badjson"), "3|{", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, key("", "truncated"), "3|\x01\xac\x02\x00\x20https://", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Written by a release that stored JSON: still read until it is rewritten or expires.
	if err := rdb.Set(ctx, key("", "legacy"), `4|{"t":"https://example.com/old","r":301,"g":["a"]}`, 0).Err(); err != nil {
		t.Fatal(err)
	}

	t.Run("missing key is links.ErrNotFound", func(t *testing.T) {
		_, err := c.Get(ctx, "", "nope")
		if !errors.Is(err, links.ErrNotFound) || errors.Is(err, redis.Nil) {
			t.Fatalf("Get = %v; want links.ErrNotFound and not redis.Nil", err)
		}
	})
	t.Run("tombstone is a deleted entry", func(t *testing.T) {
		e, err := c.Get(ctx, "go.example.com", "gone")
		want := links.Link{Domain: "go.example.com", Code: "gone", Version: 3}
		if err != nil || !e.Deleted || !reflect.DeepEqual(e.Link, want) {
			t.Fatalf("Get = %+v, %v; want deleted %+v", e, err, want)
		}
	})
	t.Run("an entry in the earlier JSON form is read", func(t *testing.T) {
		e, err := c.Get(ctx, "", "legacy")
		want := links.Link{Code: "legacy", Target: "https://example.com/old", RedirectType: 301, Tags: []string{"a"}, Version: 4}
		if err != nil || e.Deleted || !reflect.DeepEqual(e.Link, want) {
			t.Fatalf("Get = %+v, %v; want %+v", e, err, want)
		}
	})
	for _, code := range []string{"junk", "badjson", "truncated"} {
		t.Run("malformed entry "+code+" is an error, not a miss", func(t *testing.T) {
			_, err := c.Get(ctx, "", code)
			if err == nil || errors.Is(err, links.ErrNotFound) || cache.IsUnavailable(err) {
				t.Fatalf("Get = %v; want a plain error", err)
			}
		})
	}
	t.Run("a newer set replaces a malformed entry", func(t *testing.T) {
		if w, err := c.Set(ctx, links.Link{Code: "junk", Target: "https://example.com/", Version: 1}); err != nil || !w {
			t.Fatalf("Set = %v, %v; want true, nil", w, err)
		}
	})
}

func TestInvalidWritesAreRefused(t *testing.T) {
	ctx := context.Background()
	c, rdb := newTestCache(t, cache.Options{})
	ok := links.Link{Domain: "example.com", Code: "ok", Target: "https://example.com/", Version: 1}
	for _, tc := range []struct {
		name  string
		write func() error
		want  error
	}{
		{"code with colon", func() error { l := ok; l.Code = "a:b"; _, err := c.Set(ctx, l); return err }, links.ErrInvalidCode},
		{"empty code", func() error { _, err := c.Delete(ctx, "", "", 1); return err }, links.ErrInvalidCode},
		{"domain with colon", func() error { l := ok; l.Domain = "a:80"; _, err := c.Set(ctx, l); return err }, links.ErrInvalidDomain},
		{"upper-case domain", func() error { _, err := c.Delete(ctx, "Example.com", "ok", 1); return err }, links.ErrInvalidDomain},
		{"zero version", func() error { l := ok; l.Version = 0; _, err := c.Set(ctx, l); return err }, nil},
		{"negative version", func() error { _, err := c.Delete(ctx, "", "ok", -1); return err }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("write = %v; want an error wrapping %v", err, tc.want)
			}
		})
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("DBSIZE = %d, %v; want 0", n, err)
	}
}
