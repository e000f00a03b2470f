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

package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeleteDeclared turns the row for (domain, code) into a tombstone with a new version, only when
// the ShortLink with ownerUID holds it. Deleting what it does not hold, or what is already gone,
// is a no-op that returns deleted=false.
func (s *Store) DeleteDeclared(ctx context.Context, domain, code, ownerUID string) (version int64, deleted bool, err error) {
	if ownerUID == "" {
		return 0, false, errors.New("delete declared link: owner UID is required")
	}
	err = s.pool.QueryRow(ctx, deleteDeclaredSQL, domain, code, ownerUID).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap("delete declared link", err)
	}
	return version, true, nil
}

// PurgeTombstones removes up to limit tombstones last written before olderThan, with their
// url_stats rows, and returns how many it removed. olderThan must leave tombstones in place
// longer than any cache TTL, so every cache has seen them first. Rows locked by a concurrent
// writer (a claimant reviving the code) are skipped for this pass.
func (s *Store) PurgeTombstones(ctx context.Context, olderThan time.Time, limit int) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, purgeTombstonesSQL, olderThan, limit).Scan(&n)
	if err != nil {
		return 0, wrap("purge tombstones", err)
	}
	return n, nil
}
