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
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestRepairOverwritesTheSameVersionButNeverANewerOne(t *testing.T) {
	c, rdb := newTestCache(t, cache.Options{})
	ctx := context.Background()
	l := links.Link{Code: "repair", Target: "https://example.com/right", RedirectType: 302, Version: 5}
	if _, err := c.Set(ctx, l); err != nil {
		t.Fatal(err)
	}
	// A hand edit keeps the version: Set cannot fix it, Repair must.
	const k = "shortlink:link::repair"
	raw, err := rdb.Get(ctx, k).Result()
	if err != nil || !strings.HasPrefix(raw, "5|") {
		t.Fatalf("stored value %q, %v", raw, err)
	}
	edited := strings.Replace(raw, "https://example.com/right", "https://attacker.example/", 1)
	if err := rdb.Set(ctx, k, edited, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if wrote, _ := c.Set(ctx, l); wrote {
		t.Fatal("Set rewrote an entry of the same version")
	}
	if wrote, err := c.Repair(ctx, l); err != nil || !wrote {
		t.Fatalf("repair = %v, %v", wrote, err)
	}
	if e, err := c.Get(ctx, "", "repair"); err != nil || e.Link.Target != l.Target {
		t.Fatalf("after repair: %+v, %v", e, err)
	}
	newer := l
	newer.Version, newer.Target = 6, "https://example.com/newer"
	if _, err := c.Set(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if wrote, err := c.Repair(ctx, l); err != nil || wrote {
		t.Fatalf("repair over a newer entry = %v, %v; want refused", wrote, err)
	}
	if e, _ := c.Get(ctx, "", "repair"); e.Link.Version != 6 {
		t.Fatalf("version after refused repair = %d, want 6", e.Link.Version)
	}
}
