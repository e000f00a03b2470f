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
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/breakdown"
)

// Batches of mixed visits — many link-days over two domains, hours and days crossed, bots,
// direct, named, www-prefixed and unparsable referrers, more domains than a link-day keeps,
// countries or none, an empty batch, a batch of one, a batch written twice — leave exactly
// the rows in url_stats, visit_hours, visit_breakdowns and visit_logs that a plain model of
// the rules computes, visit by visit.
func TestVisitWriterMatchesModel(t *testing.T) {
	t.Parallel()
	s := openStore(t, newDB(t).bouncer, Options{ViaPgBouncer: true})
	w := s.NewVisitWriter()
	r := rand.New(rand.NewPCG(21, 3)) //nolint:gosec // a fixed, reproducible mix
	m := newVisitModel()
	ctx := context.Background()
	logged := 0
	for i, size := range []int{0, 4000, 4000, 1, 4000} {
		visits := randomVisits(r, size)
		id := fmt.Sprintf("model/%d", i)
		if dup, err := w.Write(ctx, id, visits); err != nil || dup {
			t.Fatalf("batch %d: duplicate %t, error %v", i, dup, err)
		}
		if dup, err := w.Write(ctx, id, visits); err != nil || !dup {
			t.Fatalf("batch %d again: duplicate %t, error %v; want a duplicate", i, dup, err)
		}
		m.write(visits)
		logged += size
	}
	for _, c := range []struct{ table, sql, want string }{
		{"url_stats", `SELECT domain, code, visits, bot_visits, (extract(epoch FROM last_visit_at) * 1e6)::bigint FROM url_stats`, m.linkRows()},
		{"visit_hours", `SELECT domain, code, extract(epoch FROM hour)::bigint / 3600, visits, bot_visits FROM visit_hours`, m.hourRows()},
		{"visit_breakdowns", `SELECT domain, code, to_char(day, 'YYYY-MM-DD'), dimension, value, visits FROM visit_breakdowns`, m.breakdownRows()},
		{"visit_logs", `SELECT count(*) FROM visit_logs`, sortedLines([]string{fmt.Sprint(logged)})},
	} {
		if got := tableRows(t, s, c.sql); got != c.want {
			t.Errorf("%s differs from the model:\n got %s\nwant %s", c.table, firstDifference(got, c.want), firstDifference(c.want, got))
		}
	}
	if m.capped == 0 {
		t.Error("no referrer domain found its link-day full: the mix does not test the cap")
	}
}

// randomVisits makes n visits to a few hundred links, most to a few of them, over 50 hours.
func randomVisits(r *rand.Rand, n int) []Visit {
	start := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	agents := []string{"", benchChrome, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148", "curl/8.5.0"}
	countries := []string{"", "", "DE", "FR", "US"}
	visits := make([]Visit, n)
	for i := range visits {
		v := Visit{
			Domain:    []string{"", "go.example"}[r.IntN(2)],
			Code:      fmt.Sprintf("c%d", r.IntN(r.IntN(300)+1)), // low codes most often
			At:        start.Add(time.Duration(r.Int64N(int64(50 * time.Hour))).Truncate(time.Microsecond)),
			ClientIP:  netip.AddrFrom4([4]byte{192, 0, 2, byte(r.Uint32())}), //nolint:gosec // any low byte
			UserAgent: agents[r.IntN(len(agents))],
			Bot:       r.IntN(10) == 0,
			Country:   countries[r.IntN(len(countries))],
		}
		switch k := r.IntN(20); {
		case k < 8: // no Referer
		case k < 17:
			v.Referer = fmt.Sprintf("https://site%d.example/p/%d", r.IntN(r.IntN(45)+1), i)
		case k < 18:
			v.Referer = "https://www.site3.example/x"
		case k < 19:
			v.Referer = "not a url"
		default:
			v.Referer = "https://例え.example/"
		}
		visits[i] = v
	}
	return visits
}

// visitModel is what the flush rules say the tables hold, computed visit by visit.
type visitModel struct {
	links      map[[2]string][3]int64 // visits, bots, latest in Unix microseconds
	hours      map[modelHour][2]int64
	breakdowns map[modelRow]int64
	kept       map[linkDay]map[string]bool // named referrer domains with a row
	capped     int                         // domains summed into Other for want of a place
}

type modelHour struct {
	domain, code string
	hour         int64
}

type modelRow struct {
	linkDay
	dimension, value string
}

func newVisitModel() *visitModel {
	return &visitModel{links: map[[2]string][3]int64{}, hours: map[modelHour][2]int64{},
		breakdowns: map[modelRow]int64{}, kept: map[linkDay]map[string]bool{}}
}

// write adds a batch: every count as it is, and the referrer domains each link-day has no
// place for summed into Other, the batch's new domains placed most visits first, then by name.
func (m *visitModel) write(visits []Visit) {
	referrers := map[linkDay]map[string]int64{}
	for _, v := range visits {
		bot := int64(0)
		if v.Bot {
			bot = 1
		}
		l := m.links[[2]string{v.Domain, v.Code}]
		l[0], l[1], l[2] = l[0]+1, l[1]+bot, max(l[2], v.At.UnixMicro())
		m.links[[2]string{v.Domain, v.Code}] = l
		hk := modelHour{v.Domain, v.Code, v.At.Unix() / 3600}
		m.hours[hk] = [2]int64{m.hours[hk][0] + 1, m.hours[hk][1] + bot}
		ld := linkDay{v.Domain, v.Code, v.At.Unix() / 86400}
		m.breakdowns[modelRow{ld, breakdown.Device, breakdown.DeviceClass(v.UserAgent, v.Bot)}]++
		if v.Country != "" {
			m.breakdowns[modelRow{ld, breakdown.Country, v.Country}]++
		}
		if referrers[ld] == nil {
			referrers[ld] = map[string]int64{}
		}
		referrers[ld][breakdown.ReferrerDomain(v.Referer)]++
	}
	for ld, counts := range referrers {
		if m.kept[ld] == nil {
			m.kept[ld] = map[string]bool{}
		}
		var fresh []string
		for value, n := range counts {
			if breakdown.Named(value) && !m.kept[ld][value] {
				fresh = append(fresh, value)
				continue
			}
			m.breakdowns[modelRow{ld, breakdown.Referrer, value}] += n
		}
		slices.SortFunc(fresh, func(x, y string) int { return cmp.Or(cmp.Compare(counts[y], counts[x]), strings.Compare(x, y)) })
		for _, value := range fresh {
			if len(m.kept[ld]) < MaxReferrers {
				m.kept[ld][value] = true
				m.breakdowns[modelRow{ld, breakdown.Referrer, value}] += counts[value]
			} else {
				m.breakdowns[modelRow{ld, breakdown.Referrer, breakdown.Other}] += counts[value]
				m.capped++
			}
		}
	}
}

func (m *visitModel) linkRows() string {
	rows := make([]string, 0, len(m.links))
	for k, v := range m.links {
		rows = append(rows, fmt.Sprint(k[0], " ", k[1], " ", v[0], " ", v[1], " ", v[2]))
	}
	return sortedLines(rows)
}

func (m *visitModel) hourRows() string {
	rows := make([]string, 0, len(m.hours))
	for k, v := range m.hours {
		rows = append(rows, fmt.Sprint(k.domain, " ", k.code, " ", k.hour, " ", v[0], " ", v[1]))
	}
	return sortedLines(rows)
}

func (m *visitModel) breakdownRows() string {
	rows := make([]string, 0, len(m.breakdowns))
	for k, n := range m.breakdowns {
		day := time.Unix(k.day*86400, 0).UTC().Format(time.DateOnly)
		rows = append(rows, fmt.Sprint(k.domain, " ", k.code, " ", day, " ", k.dimension, " ", k.value, " ", n))
	}
	return sortedLines(rows)
}

// tableRows reads every row of sql as a line of its columns, sorted.
func tableRows(t *testing.T, s *Store, sql string) string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for i, v := range vals {
			if i > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprint(&sb, v)
		}
		lines = append(lines, sb.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sortedLines(lines)
}

func sortedLines(lines []string) string {
	slices.Sort(lines)
	return fmt.Sprintf("%d rows:\n%s", len(lines), strings.Join(lines, "\n"))
}

// firstDifference shortens a against b to its count and the first of its lines b lacks.
func firstDifference(a, b string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		have[l] = true
	}
	lines := strings.Split(a, "\n")
	for _, l := range lines[1:] {
		if !have[l] {
			return lines[0] + " … first not in the other: " + l
		}
	}
	return lines[0] + " … every line in the other"
}
