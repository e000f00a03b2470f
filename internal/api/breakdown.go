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
	"net/http"
	"strconv"
	"time"

	"github.com/shortlink-dev/shortlink/internal/breakdown"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// MaxBreakdownDays bounds the UTC days a breakdown sums: a year and a leap day, the span a
// campaign report asks for, at most 26 rows a day to read for referrers and devices.
const MaxBreakdownDays = 366

// day is a UTC day.
const day = 24 * time.Hour

// breakdown answers a link's visits by referrer domain, device class and country, summed over
// the UTC days from from's day while they start before to. Referrers beyond the top
// store.MaxReferrers of the span are summed into "(other)", so the answer stays bounded
// however many days it sums.
func (s *server) breakdown(w http.ResponseWriter, r *http.Request) error {
	domain, code, err := s.key(r)
	if err != nil {
		return err
	}
	if _, _, err := s.readable(r, domain, code); err != nil {
		return err
	}
	first, end, err := breakdownDays(r, s.now())
	if err != nil {
		return err
	}
	b, err := s.store.VisitBreakdowns(r.Context(), domain, code, first, end)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, BreakdownResponse{
		Code: code, Domain: domain, From: first, To: end,
		Referrers: topReferrers(counts(b.Referrers)), Devices: counts(b.Devices), Countries: counts(b.Countries),
	})
	return nil
}

// breakdownDays reads from and to into the first UTC day and the midnight after the last.
func breakdownDays(r *http.Request, now time.Time) (first, end time.Time, err error) {
	from, to, err := querySpan(r.URL.Query(), now)
	if err != nil {
		return first, end, err
	}
	first = from.UTC().Truncate(day) // UTC days are whole multiples since the epoch
	n, ok := buckets(first, to, day)
	if !ok || n > MaxBreakdownDays {
		return first, end, badField("from", "asks for more than "+strconv.Itoa(MaxBreakdownDays)+" days; narrow from and to")
	}
	return first, first.Add(time.Duration(n) * day), nil
}

// counts turns the store's counts into the answer's, never null.
func counts(in []store.BreakdownCount) []BreakdownCount {
	out := make([]BreakdownCount, len(in))
	for i, c := range in {
		out[i] = BreakdownCount{Value: c.Value, Visits: c.Visits}
	}
	return out
}

// topReferrers keeps the store.MaxReferrers domains with most visits (they come sorted so) and
// sums the rest into "(other)"; "(direct)" is always kept.
func topReferrers(in []BreakdownCount) []BreakdownCount {
	out := make([]BreakdownCount, 0, min(len(in), store.MaxReferrers+2))
	other := BreakdownCount{Value: breakdown.Other}
	named := 0
	for _, c := range in {
		switch {
		case c.Value == breakdown.Other || (breakdown.Named(c.Value) && named == store.MaxReferrers):
			other.Visits += c.Visits
		case breakdown.Named(c.Value):
			named++
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	if other.Visits > 0 {
		out = append(out, other)
	}
	return out
}
