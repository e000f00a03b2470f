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

// walPositionSQL is the server's position in the WAL as a byte offset: on a primary what it
// has written, on a standby what it has replayed (what its readers see). It touches no table
// and works through PgBouncer. A standby that has replayed nothing yet answers 0.
const walPositionSQL = `SELECT (coalesce(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
	ELSE pg_current_wal_lsn() END, '0/0') - '0/0'::pg_lsn)::bigint`

// WALPosition returns how far into the WAL this server is: a primary's written position, a
// standby's replayed one. The redirector compares its replica's with its primary's to measure
// how far the replica lags.
func (s *Store) WALPosition(ctx context.Context) (int64, error) {
	var pos int64
	if err := s.pool.QueryRow(ctx, walPositionSQL).Scan(&pos); err != nil {
		return 0, wrap("read WAL position", err)
	}
	return pos, nil
}
