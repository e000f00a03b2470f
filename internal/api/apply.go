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

package api

import (
	"slices"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// apply returns l with the fields req sets (null clears a field), normalized and checked
// against the URL policy, or a *links.FieldError naming the first field refused.
func (s *server) apply(l links.Link, req LinkRequest) (links.Link, error) {
	// 0 is the link's "no limit", which a client says with null (or by leaving the field out):
	// a limit of 0 visits is a mistake, not a request for a link that never redirects.
	if m := req.MaxVisits; m.Set && !m.Null && m.V < 1 {
		return links.Link{}, &links.FieldError{Field: "maxVisits", Reason: "must be at least 1 (null removes the limit)", Err: links.ErrInvalidLink}
	}
	setValue(&l.Target, req.Target)
	setValue(&l.RedirectType, req.RedirectType)
	setValue(&l.ForwardQuery, req.ForwardQuery)
	setValue(&l.ForwardPath, req.ForwardPath)
	setValue(&l.MaxVisits, req.MaxVisits)
	setValue(&l.ValidSince, req.ValidSince)
	setValue(&l.ValidUntil, req.ValidUntil)
	setValue(&l.ExpiredTarget, req.ExpiredTarget)
	setValue(&l.Suspended, req.Suspend)
	setValue(&l.Tags, req.Tags)
	n, err := l.Normalized()
	if err != nil {
		return links.Link{}, err
	}
	// Normalized left both targets canonical: the policy need not normalize them again.
	policy := s.policy()
	if err := policy.CheckNormalized(n.Target); err != nil {
		return links.Link{}, err
	}
	if n.ExpiredTarget != "" {
		if err := policy.CheckNormalized(n.ExpiredTarget); err != nil {
			return links.Link{}, links.WithField(err, "expiredTarget")
		}
	}
	return n, nil
}

// setValue applies one field of a request: absent keeps *p, null clears it.
func setValue[T any](p *T, o optional[T]) {
	switch {
	case o.Null:
		var zero T
		*p = zero
	case o.Set:
		*p = o.V
	}
}

func (s *server) response(row store.Row, visits *int64) LinkResponse {
	tags := row.Tags
	if tags == nil {
		tags = []string{}
	}
	return LinkResponse{
		Code: row.Code, Domain: row.Domain, ShortURL: s.shortURL(row.Domain, row.Code),
		Target: row.Target, RedirectType: row.RedirectType, ForwardQuery: row.ForwardQuery,
		ForwardPath: row.ForwardPath, MaxVisits: positiveOrNil(row.MaxVisits),
		ValidSince: timeOrNil(row.ValidSince), ValidUntil: timeOrNil(row.ValidUntil),
		ExpiredTarget: row.ExpiredTarget, Suspend: row.Suspended, Tags: slices.Clone(tags),
		Source: row.Source, Version: row.Version, CreatedAt: row.CreatedAt, Visits: visits,
	}
}

// timeOrNil is t, or nil for the zero time. The copy is made only when needed: returning &t
// moved every t to the heap, zero or not, two allocations a link of a batch's answer.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	p := new(time.Time)
	*p = t
	return p
}

// positiveOrNil is n, or nil for 0 (no limit), which the answer leaves out; copied only then,
// as timeOrNil.
func positiveOrNil(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	p := new(int64)
	*p = n
	return p
}
