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
	err = s.pool.QueryRow(ctx, `UPDATE urls
		SET deleted = true, version = nextval('urls_version_seq'), updated_at = now()
		WHERE domain = $1 AND code = $2 AND source = 'k8s' AND owner_uid = $3 AND NOT deleted
		RETURNING version`, domain, code, ownerUID).Scan(&version)
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
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (
			DELETE FROM urls WHERE (domain, code) IN (
				SELECT domain, code FROM urls WHERE deleted AND updated_at < $1
				ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING domain, code
		), stats AS (
			DELETE FROM url_stats s USING gone WHERE s.domain = gone.domain AND s.code = gone.code
		)
		SELECT count(*) FROM gone`, olderThan, limit).Scan(&n)
	if err != nil {
		return 0, wrap("purge tombstones", err)
	}
	return n, nil
}

// PruneStatsBatches deletes the ids of stats batches flushed before olderThan. An id only has
// to outlive the retries of its own flush (seconds to minutes); kept forever, the table would
// grow by one row a second per redirector.
func (s *Store) PruneStatsBatches(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM stats_batches WHERE flushed_at < $1`, olderThan)
	if err != nil {
		return 0, wrap("prune stats batches", err)
	}
	return tag.RowsAffected(), nil
}
