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
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// A page of the change feed is healed in one pipeline, page after page, also after Redis forgot
// its scripts (SCRIPT FLUSH, as after a restart).
func TestChangeFeedHealsRedisPageByPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	f.resolver(redirect.Options{PollInterval: 50 * time.Millisecond, PollBatch: 4}, false, nil)
	if err := f.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	made := make([]links.Link, 10)
	for i := range made {
		made[i] = f.upsert(link(fmt.Sprintf("page%d", i), fmt.Sprintf("https://example.com/%d", i)))
	}
	gone := map[string]int64{}
	for _, l := range made[:3] {
		v, ok, err := f.writer.DeleteDeclared(ctx, "", l.Code, l.OwnerUID)
		if err != nil || !ok {
			t.Fatalf("delete %s: %v, %v", l.Code, ok, err)
		}
		gone[l.Code] = v
	}
	eventually(t, "Redis to hold every change", func() bool {
		for _, l := range made {
			e, err := f.cache.Get(ctx, "", l.Code)
			if v, deleted := gone[l.Code]; deleted {
				if err != nil || !e.Deleted || e.Link.Version != v {
					return false
				}
			} else if err != nil || e.Deleted || e.Link.Version != l.Version || e.Link.Target != l.Target {
				return false
			}
		}
		return true
	})
}
