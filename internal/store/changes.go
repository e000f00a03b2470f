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

import "context"

// The redirector reads through PgBouncer: everything here is a single statement, so it works in
// transaction pooling mode with QueryExecModeExec.

// Changes returns up to limit rows written after afterVersion, tombstones included, in version
// order. Redirectors poll it with the highest version they have seen, to drop stale cache
// entries that a lost pub/sub message did not.
//
// A version is drawn from the sequence before its transaction commits, so a write can become
// visible after one with a higher version, however far behind: a poller that must not miss
// such a write reads Feed, in commit order, instead (the redirector does).
func (s *Store) Changes(ctx context.Context, afterVersion int64, limit int) ([]Row, error) {
	rows, err := s.pool.Query(ctx, changesSQL, afterVersion, limit)
	if err != nil {
		return nil, wrap("read changes", err)
	}
	changes, err := collectRows(rows)
	if err != nil {
		return nil, wrap("read changes", err)
	}
	return changes, nil
}
