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
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/breakdown"
)

// visit_breakdowns holds visits per link, UTC day, dimension (referrer, device, country) and
// value. All SQL that touches it is here: the flush's part, the API's read and retention.

// MaxReferrers is how many referrer domains a link keeps per day; visits from further domains
// are summed into breakdown.Other. Twenty covers the head of a campaign's referrers (the API
// and the dashboard show ten) while a link-day stays at 22 referrer rows however many sites
// link to it.
const MaxReferrers = 20

// maxCountry bounds a country value: an ISO 3166-1 alpha-2 code.
const maxCountry = 2

// namedReferrersSQL reads the domains a batch's link-days already keep, so the flush knows
// which of its domains have a row and how many more may get one. It runs after url_stats'
// rows of the batch's links are locked (addCountsSQL): a concurrent flush of the same link
// waits for this transaction to commit, so two flushes never both take the last free place.
const namedReferrersSQL = `SELECT v.domain, v.code, v.day, v.value FROM visit_breakdowns v
	JOIN unnest($1::text[], $2::text[], $3::date[]) AS t(domain, code, day)
		ON v.domain = t.domain AND v.code = t.code AND v.day = t.day
	WHERE v.dimension = 'referrer' AND v.value NOT IN ('(direct)', '(other)')`

// addBreakdownsSQL adds a batch's counts, in key order so concurrent flushes lock rows alike.
const addBreakdownsSQL = `INSERT INTO visit_breakdowns (domain, code, day, dimension, value, visits)
	SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::bigint[])
	ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (domain, code, day, dimension, value) DO UPDATE SET visits = visit_breakdowns.visits + EXCLUDED.visits`

// pruneVisitBreakdownsSQL deletes the days that end at or before $1, as visit_hours is pruned.
const pruneVisitBreakdownsSQL = `DELETE FROM visit_breakdowns WHERE day < ($1::timestamptz AT TIME ZONE 'UTC')::date`

// linkDay names one link's UTC day.
type linkDay struct {
	domain, code string
	day          int64 // Unix time divided by 86400
}

// breakdownKey names one row of visit_breakdowns.
type breakdownKey struct {
	linkDay
	dimension, value string
}

// addBreakdowns writes the breakdowns of a batch's visits in tx: device and country counts as
// they are, referrer counts capped at MaxReferrers domains per link-day.
func addBreakdowns(ctx context.Context, tx pgx.Tx, visits []Visit) error {
	sums := sumBreakdowns(visits)
	kept, err := namedReferrers(ctx, tx, sums)
	if err != nil {
		return err
	}
	capReferrers(sums, kept)
	b := breakdownArrays(sums)
	if _, err := tx.Exec(ctx, addBreakdownsSQL, b.domains, b.codes, b.days, b.dimensions, b.values, b.visits); err != nil {
		return fmt.Errorf("add visit breakdowns: %w", err)
	}
	return nil
}

// sumBreakdowns counts a batch's visits per link-day by referrer domain, device class and,
// where the redirector found one, country. A batch holds few distinct User-Agents (a handful
// of browser versions make most traffic), so each is classified once a batch and looked up
// after. Referers are not remembered so: their paths make most of them distinct, and a map of
// 50,000 of them cost more than parsing each (BenchmarkSumBreakdowns).
func sumBreakdowns(visits []Visit) map[breakdownKey]int64 {
	sums := make(map[breakdownKey]int64)
	devices := make(map[deviceKey]string)
	for i := range visits {
		v := &visits[i]
		ld := linkDay{v.Domain, v.Code, v.At.Unix() / 86400}
		sums[breakdownKey{ld, breakdown.Referrer, cleanText(breakdown.ReferrerDomain(v.Referer), maxReferer)}]++
		dk := deviceKey{v.UserAgent, v.Bot}
		device, ok := devices[dk]
		if !ok {
			device = breakdown.DeviceClass(v.UserAgent, v.Bot)
			devices[dk] = device
		}
		sums[breakdownKey{ld, breakdown.Device, device}]++
		if v.Country != "" {
			sums[breakdownKey{ld, breakdown.Country, cleanText(v.Country, maxCountry)}]++
		}
	}
	return sums
}

// deviceKey is what a visit's device class depends on.
type deviceKey struct {
	userAgent string
	bot       bool
}

// namedReferrers returns the referrer domains each of the batch's link-days keeps already.
func namedReferrers(ctx context.Context, tx pgx.Tx, sums map[breakdownKey]int64) (map[linkDay]map[string]bool, error) {
	var domains, codes []string
	var days []time.Time
	seen := make(map[linkDay]bool)
	for k := range sums {
		if !seen[k.linkDay] {
			seen[k.linkDay] = true
			domains, codes, days = append(domains, k.domain), append(codes, k.code), append(days, dayTime(k.day))
		}
	}
	rows, err := tx.Query(ctx, namedReferrersSQL, domains, codes, days)
	if err != nil {
		return nil, fmt.Errorf("read kept referrers: %w", err)
	}
	kept := make(map[linkDay]map[string]bool)
	var ld linkDay
	var day time.Time
	var value string
	_, err = pgx.ForEachRow(rows, []any{&ld.domain, &ld.code, &day, &value}, func() error {
		ld.day = day.Unix() / 86400
		if kept[ld] == nil {
			kept[ld] = make(map[string]bool)
		}
		kept[ld][value] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kept referrers: %w", err)
	}
	return kept, nil
}

// capReferrers moves into Other the counts of domains a link-day has no place left for. A
// domain kept already keeps counting; new domains take the free places by their count in the
// batch, most first, so the top domains are the ones kept unless a link-day's first batches
// saw more than MaxReferrers others before them.
func capReferrers(sums map[breakdownKey]int64, kept map[linkDay]map[string]bool) {
	fresh := make(map[linkDay][]breakdownKey)
	for k := range sums {
		if k.dimension == breakdown.Referrer && breakdown.Named(k.value) && !kept[k.linkDay][k.value] {
			fresh[k.linkDay] = append(fresh[k.linkDay], k)
		}
	}
	for ld, keys := range fresh {
		free := MaxReferrers - len(kept[ld])
		if len(keys) <= free {
			continue
		}
		slices.SortFunc(keys, func(x, y breakdownKey) int {
			return cmp.Or(cmp.Compare(sums[y], sums[x]), strings.Compare(x.value, y.value))
		})
		other := breakdownKey{ld, breakdown.Referrer, breakdown.Other}
		for _, k := range keys[max(free, 0):] {
			sums[other] += sums[k]
			delete(sums, k)
		}
	}
}

// breakdownRows are a batch's breakdown counts as parallel arrays in key order.
type breakdownRows struct {
	domains, codes, dimensions, values []string
	days                               []time.Time
	visits                             []int64
}

func breakdownArrays(sums map[breakdownKey]int64) breakdownRows {
	keys := make([]breakdownKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y breakdownKey) int {
		return cmp.Or(strings.Compare(x.domain, y.domain), strings.Compare(x.code, y.code), cmp.Compare(x.day, y.day),
			strings.Compare(x.dimension, y.dimension), strings.Compare(x.value, y.value))
	})
	b := breakdownRows{
		domains: make([]string, len(keys)), codes: make([]string, len(keys)), dimensions: make([]string, len(keys)),
		values: make([]string, len(keys)), days: make([]time.Time, len(keys)), visits: make([]int64, len(keys)),
	}
	for i, k := range keys {
		b.domains[i], b.codes[i], b.days[i] = k.domain, k.code, dayTime(k.day)
		b.dimensions[i], b.values[i], b.visits[i] = k.dimension, k.value, sums[k]
	}
	return b
}

func dayTime(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// BreakdownCount is the visits of one value of a dimension.
type BreakdownCount struct {
	Value  string
	Visits int64
}

// Breakdowns are a link's visits over some days by referrer domain, device class and country,
// each most visits first.
type Breakdowns struct {
	Referrers, Devices, Countries []BreakdownCount
}

// visitBreakdownsSQL sums a live link's breakdown rows over the days [$3, $4), each dimension
// most visits first. A live link without visits gets one row of NULLs (the LEFT JOIN), so no
// row at all means no live link.
var visitBreakdownsSQL = `SELECT b.dimension, b.value, b.visits FROM (SELECT 1) AS one
	LEFT JOIN (
		SELECT dimension, value, sum(visits)::bigint AS visits FROM visit_breakdowns
		WHERE domain = $1 AND code = $2 AND day >= $3::date AND day < $4::date
		GROUP BY dimension, value
	) b ON true
	WHERE ` + liveLinkExistsSQL + `
	ORDER BY b.dimension, b.visits DESC, b.value`

// VisitBreakdowns returns the breakdowns of the live link (domain, code) over the UTC days from
// first up to before end (both midnights UTC), or links.ErrNotFound. Like the visit series,
// they are counted by the code, so they include those of earlier holders.
func (s *Store) VisitBreakdowns(ctx context.Context, domain, code string, first, end time.Time) (Breakdowns, error) {
	rows, err := s.pool.Query(ctx, visitBreakdownsSQL, domain, code, first, end)
	if err != nil {
		return Breakdowns{}, wrap("visit breakdowns", err)
	}
	var out Breakdowns
	var dimension, value *string
	var visits *int64
	found := false
	_, err = pgx.ForEachRow(rows, []any{&dimension, &value, &visits}, func() error {
		found = true
		if dimension != nil {
			out.add(*dimension, BreakdownCount{Value: *value, Visits: *visits})
		}
		return nil
	})
	if err == nil && !found {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return Breakdowns{}, wrap("visit breakdowns", err)
	}
	return out, nil
}

func (b *Breakdowns) add(dimension string, c BreakdownCount) {
	switch dimension {
	case breakdown.Referrer:
		b.Referrers = append(b.Referrers, c)
	case breakdown.Device:
		b.Devices = append(b.Devices, c)
	case breakdown.Country:
		b.Countries = append(b.Countries, c)
	}
}

// pruneVisitBreakdowns deletes the breakdowns of days that end at or before cutoff, so visit
// retention holds for them.
func (s *Store) pruneVisitBreakdowns(ctx context.Context, cutoff time.Time) error {
	if _, err := s.pool.Exec(ctx, pruneVisitBreakdownsSQL, cutoff); err != nil {
		return wrap("delete old visit breakdowns", err)
	}
	return nil
}
