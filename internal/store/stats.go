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

	"github.com/jackc/pgx/v5"
)

// VisitTotal is the visit count of one declared link, for the status rollup.
type VisitTotal struct {
	// Domain and Code are the row's key: the rollup credits a ShortLink only with the row of
	// the code it claims now.
	Domain, Code string
	// Owner is the holding ShortLink's "namespace/name"; OwnerUID tells a restored object apart.
	Owner    string
	OwnerUID string
	// Visits is 0 for a link that has none yet, or whose counts were reset by a takeover.
	Visits int64
	// LastVisitAt is the zero time when Visits is 0.
	LastVisitAt time.Time
}

// VisitTotals returns, in one query, the visit counts of every live k8s row stamped with
// installID, links without visits included (at zero), so the rollup can also correct a status
// after a takeover reset the counts.
func (s *Store) VisitTotals(ctx context.Context, installID string) ([]VisitTotal, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT u.domain, u.code, u.owner, u.owner_uid, coalesce(s.visits, 0), s.last_visit_at
		FROM urls u LEFT JOIN url_stats s ON s.domain = u.domain AND s.code = u.code
		WHERE u.install_id = $1 AND u.source = 'k8s' AND NOT u.deleted`, installID)
	if err != nil {
		return nil, wrap("read visit totals", err)
	}
	totals, err := pgx.CollectRows(rows, scanVisitTotal)
	if err != nil {
		return nil, wrap("read visit totals", err)
	}
	return totals, nil
}

func scanVisitTotal(r pgx.CollectableRow) (VisitTotal, error) {
	var v VisitTotal
	var last *time.Time
	if err := r.Scan(&v.Domain, &v.Code, &v.Owner, &v.OwnerUID, &v.Visits, &last); err != nil {
		return VisitTotal{}, err
	}
	v.LastVisitAt = zeroIfNil(last)
	return v, nil
}
