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
)

// ReleaseOtherClaims tombstones every k8s row held by ownerUID other than keep, and returns
// them with their tombstone versions. A ShortLink whose spec.domain changed holds its old
// (domain, code) until this runs; without it the old short URL would redirect forever.
func (s *Store) ReleaseOtherClaims(ctx context.Context, ownerUID string, keep Key) ([]Row, error) {
	if ownerUID == "" {
		return nil, errors.New("release other claims: owner UID is required")
	}
	rows, err := s.pool.Query(ctx, releaseOtherClaimsSQL, ownerUID, keep.Domain, keep.Code)
	if err != nil {
		return nil, wrap("release other claims", err)
	}
	released, err := collectRows(rows)
	if err != nil {
		return nil, wrap("release other claims", err)
	}
	return released, nil
}
