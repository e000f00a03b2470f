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
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

const (
	// DefaultListLimit and MaxListLimit bound a page of the listing.
	DefaultListLimit = 100
	MaxListLimit     = 1000
	// MaxVisitPoints bounds the buckets of a visit series.
	MaxVisitPoints = 2000
	// defaultVisitSpan is how far back a visit series goes without from=.
	defaultVisitSpan = 30 * 24 * time.Hour
)

// visitSteps are the bucket sizes of a visit series; a day is 24 hours of UTC.
var visitSteps = map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour}

// list answers a page of the links of a domain in code order: the API links the key made, or,
// for an admin key, every link, declared ones included. The cursor is opaque to clients: the
// last code of the page, base64url-encoded.
func (s *server) list(w http.ResponseWriter, r *http.Request) error {
	domain, err := s.domain(r, optional[string]{})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := DefaultListLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxListLimit {
			return badField("limit", "must be an integer from 1 to "+strconv.Itoa(MaxListLimit))
		}
	}
	after, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	tag := q.Get("tag")
	if utf8.RuneCountInString(tag) > links.MaxTagLength {
		return badField("tag", "is longer than any tag")
	}
	// One more than the page tells whether there is a next one.
	rows, err := s.store.ListLinks(r.Context(), store.ListQuery{
		Domain: domain, Tag: tag, After: after, Limit: limit + 1, OwnedBy: caller(r.Context()).ownedBy()})
	if err != nil {
		return err
	}
	out := ListResponse{Links: make([]LinkResponse, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(rows[limit-1].Code))
	}
	for _, row := range rows {
		out.Links = append(out.Links, s.response(row, nil))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !links.ValidCode(string(b)) {
		return "", badField("cursor", "is not a cursor this API gave")
	}
	return string(b), nil
}

// visits answers a link's visits, people's and programs' apart, in buckets of an hour or a day (UTC): from is rounded down to
// its bucket, and the buckets run while they start before to.
func (s *server) visits(w http.ResponseWriter, r *http.Request) error {
	domain, code, err := s.key(r)
	if err != nil {
		return err
	}
	if _, _, err := s.readable(r, domain, code); err != nil {
		return err
	}
	q := r.URL.Query()
	stepName := q.Get("step")
	if stepName == "" {
		stepName = "day"
	}
	step, ok := visitSteps[stepName]
	if !ok {
		return badField("step", `must be "hour" or "day"`)
	}
	from, to, err := querySpan(q, s.now())
	if err != nil {
		return err
	}
	first := from.UTC().Truncate(step) // UTC hours and days are whole multiples since the epoch
	n, ok := buckets(first, to, step)
	if !ok {
		return badField("from", "asks for more than "+strconv.Itoa(MaxVisitPoints)+" buckets; narrow from and to, or use step=day")
	}
	counts, err := s.store.VisitSeries(r.Context(), domain, code, first, step, n)
	if err != nil {
		return err
	}
	out := VisitsResponse{Code: code, Domain: domain, Step: stepName, Points: make([]VisitPoint, len(counts))}
	for i, c := range counts {
		out.Points[i] = VisitPoint{Start: c.Start.UTC(), Visits: c.Visits, BotVisits: c.BotVisits}
		out.Total += c.Visits
		out.BotTotal += c.BotVisits
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// buckets returns how many buckets of step, from first, start before to; ok is false beyond
// MaxVisitPoints. The span is compared before any arithmetic on it: time.Sub saturates at about
// 292 years, and rounding a saturated span up overflowed into a negative count.
func buckets(first, to time.Time, step time.Duration) (int, bool) {
	span := to.Sub(first)
	if span > MaxVisitPoints*step {
		return 0, false
	}
	return int((span + step - 1) / step), true
}

// querySpan reads the from and to parameters: to defaults to now and from to defaultVisitSpan
// before to, and from must come first.
func querySpan(q url.Values, now time.Time) (from, to time.Time, err error) {
	if to, err = queryTime(q.Get("to"), "to", now); err != nil {
		return from, to, err
	}
	if from, err = queryTime(q.Get("from"), "from", to.Add(-defaultVisitSpan)); err != nil {
		return from, to, err
	}
	if !from.Before(to) {
		return from, to, badField("from", "must be before to")
	}
	return from, to, nil
}

func queryTime(v, field string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badField(field, "must be an RFC 3339 time")
	}
	return t, nil
}
