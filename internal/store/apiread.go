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

// ListQuery selects a page of ListLinks.
type ListQuery struct {
	// Domain is the stored domain ("" for the default one).
	Domain string
	// Tag, when set, keeps only links carrying it.
	Tag string
	// After is the last code of the previous page; "" starts at the beginning.
	After string
	// Limit bounds the page.
	Limit int
	// OwnedBy, when set, keeps only the API links of that owner (the name of the key that made
	// them): no declared link, no other key's. "" lists every live link.
	OwnedBy string
}

// ListLinks returns the live links of a domain, declared or not (see q.OwnedBy), in code
// order: up to q.Limit of them after q.After (keyset pagination on the primary key, or on
// urls_api_owner_idx for one owner's).
func (s *Store) ListLinks(ctx context.Context, q ListQuery) ([]Row, error) {
	sql, args := listLinksSQL(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("list links", err)
	}
	out, err := collectRows(rows)
	if err != nil {
		return nil, wrap("list links", err)
	}
	return out, nil
}
