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
	"time"
)

// stats_batches holds the id of every flushed stats batch, so a retried flush counts nothing
// twice. All SQL that touches it is here.

// insertBatchIDSQL records a batch id. A conflict means an earlier attempt at this batch
// committed: nothing more is done.
const insertBatchIDSQL = `INSERT INTO stats_batches (batch_id) VALUES ($1) ON CONFLICT DO NOTHING`

const pruneStatsBatchesSQL = `DELETE FROM stats_batches WHERE flushed_at < $1`

// PruneStatsBatches deletes the ids of stats batches flushed before olderThan. An id only has
// to outlive the retries of its own flush (seconds to minutes); kept forever, the table would
// grow by one row a second per redirector.
func (s *Store) PruneStatsBatches(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, pruneStatsBatchesSQL, olderThan)
	if err != nil {
		return 0, wrap("prune stats batches", err)
	}
	return tag.RowsAffected(), nil
}
