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
	"github.com/jackc/pgx/v5/pgconn"

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

// namedReferrersSQL reads the domains the batch's link-days with named referrers already keep,
// each with the link-day's place in the parameters (from 1), so the flush knows which of its
// domains have a row and how many more may get one. It runs after url_stats' rows of the
// batch's links are locked (addCountsSQL): a concurrent flush of the same link waits for this
// transaction to commit, so two flushes never both take the last free place.
const namedReferrersSQL = `SELECT t.i, v.value FROM visit_breakdowns v
	JOIN unnest($1::text[], $2::text[], $3::date[]) WITH ORDINALITY AS t(domain, code, day, i)
		ON v.domain = t.domain AND v.code = t.code AND v.day = t.day
	WHERE v.dimension = 'referrer' AND v.value NOT IN ('(direct)', '(other)')`

// addBreakdownsSQL adds a batch's counts, in key order so concurrent flushes lock rows alike.
const addBreakdownsSQL = `INSERT INTO visit_breakdowns (domain, code, day, dimension, value, visits)
	SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::bigint[])
	ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (domain, code, day, dimension, value) DO UPDATE SET visits = visit_breakdowns.visits + EXCLUDED.visits`

// pruneVisitBreakdownsSQL deletes the days that end at or before $1, as visit_hours is pruned.
const pruneVisitBreakdownsSQL = `DELETE FROM visit_breakdowns WHERE day < ($1::timestamptz AT TIME ZONE 'UTC')::date`

// addBreakdowns writes the breakdowns of the batch summed in w.groups: device and country
// counts as they are, referrer counts capped at MaxReferrers domains per link-day.
func (w *VisitWriter) addBreakdowns(ctx context.Context, conn *pgconn.PgConn) error {
	kept, err := w.namedReferrers(ctx, conn)
	if err != nil {
		return fmt.Errorf("read kept referrers: %w", err)
	}
	w.groups.capReferrers(kept)
	w.breakdownParams()
	if err := w.params.exec(ctx, conn, addBreakdownsSQL); err != nil {
		return fmt.Errorf("add visit breakdowns: %w", err)
	}
	return nil
}

// keptReferrers are the referrer domains the batch's link-days keep already, by link-day.
type keptReferrers map[int32][]string

func (k keptReferrers) has(gi int32, value string) bool { return slices.Contains(k[gi], value) }

// namedReferrers reads the referrer domains kept by the link-days that have named referrers
// in the batch. Only those can take a place, so the others are not asked about, and a batch of
// direct visits only (most traffic without a Referer) reads nothing.
func (w *VisitWriter) namedReferrers(ctx context.Context, conn *pgconn.PgConn) (keptReferrers, error) {
	g, p := &w.groups, &w.params
	p.start(textArray, textArray, dateArray)
	var asked []int32
	for i := range g.groups {
		if d := &g.groups[i]; d.named > 0 {
			p.arrays[0].text(d.domain)
			p.arrays[1].text(d.code)
			p.arrays[2].date(d.day)
			asked = append(asked, int32(i)) //nolint:gosec // as in visitGroups.group
		}
	}
	if len(asked) == 0 {
		return nil, nil
	}
	kept := make(keptReferrers)
	err := p.query(ctx, conn, namedReferrersSQL, func(vals [][]byte) error {
		r := binaryRow{vals: vals}
		i, value := r.int(8), r.text()
		if r.err == nil && (i < 1 || i > int64(len(asked))) {
			r.err = fmt.Errorf("link-day %d of %d", i, len(asked))
		}
		if r.err != nil {
			return r.err
		}
		gi := asked[i-1]
		kept[gi] = append(kept[gi], value)
		return nil
	})
	return kept, err
}

// capReferrers moves into Other the counts of domains a link-day has no place left for. A
// domain kept already keeps counting; new domains take the free places by their count in the
// batch, most first, so the top domains are the ones kept unless a link-day's first batches
// saw more than MaxReferrers others before them.
//
// Most link-days have room for every domain of the batch, kept or not, and are not looked at.
func (g *visitGroups) capReferrers(kept keptReferrers) {
	fresh := make(map[int32][]int32)
	for i := range g.rows {
		r := &g.rows[i]
		if r.dimension != breakdown.Referrer || !breakdown.Named(r.value) {
			continue
		}
		if int(g.groups[r.group].named) <= MaxReferrers-len(kept[r.group]) {
			continue // room for every domain of the link-day
		}
		if !kept.has(r.group, r.value) {
			fresh[r.group] = append(fresh[r.group], int32(i)) //nolint:gosec // as in visitGroups.group
		}
	}
	for gi, rows := range fresh {
		free := MaxReferrers - len(kept[gi])
		if len(rows) <= free {
			continue
		}
		slices.SortFunc(rows, func(x, y int32) int {
			return cmp.Or(cmp.Compare(g.rows[y].n, g.rows[x].n), strings.Compare(g.rows[x].value, g.rows[y].value))
		})
		other := g.addRow(gi, breakdown.Referrer, breakdown.Other, 0)
		for _, i := range rows[max(free, 0):] {
			g.rows[other].n += g.rows[i].n
			g.rows[i].n = 0
		}
	}
}

// breakdownParams sets w.params to the batch's breakdown rows, as addBreakdownsSQL takes them.
func (w *VisitWriter) breakdownParams() {
	g, p := &w.groups, &w.params
	p.start(textArray, textArray, dateArray, textArray, textArray, int8Array)
	add := func(d *dayGroup, dimension, value string, n int64) {
		if n == 0 {
			return
		}
		p.arrays[0].text(d.domain)
		p.arrays[1].text(d.code)
		p.arrays[2].date(d.day)
		p.arrays[3].text(dimension)
		p.arrays[4].text(value)
		p.arrays[5].int8(n)
	}
	for i := range g.groups {
		d := &g.groups[i]
		add(d, breakdown.Referrer, breakdown.Direct, d.direct)
		add(d, breakdown.Device, d.device.value, d.device.n)
		add(d, breakdown.Country, d.country.value, d.country.n)
	}
	for i := range g.rows {
		r := &g.rows[i]
		add(&g.groups[r.group], r.dimension, r.value, r.n)
	}
}

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
