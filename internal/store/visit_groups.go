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
	"github.com/shortlink-dev/shortlink/internal/breakdown"
)

// A flush sums its batch once, per link and UTC day: the counts per hour (visit_hours and
// url_stats) and per dimension value (visit_breakdowns) of a link-day are the same few values
// for most of its visits — one hour, no referrer, one device class — so each link-day counts
// its first hour, its direct visits, its first device class and its first country in fields of
// its own, and only other values go to the batch's overflow rows. With a million links a batch
// has nearly a link-day a visit; one map lookup of (domain, code, day) a visit replaced three
// lookups of five-string keys and two sorts, which were a third of a flush's CPU.

// linkDay names one link's UTC day.
type linkDay struct {
	domain, code string
	day          int64 // Unix time divided by 86400
}

// dayGroup is what a batch counts for one link-day in its own fields.
type dayGroup struct {
	linkDay
	hour    hourCount  // the first hour seen
	direct  int64      // visits without a referrer domain (breakdown.Direct)
	device  valueCount // the first device class seen
	country valueCount // the first country seen
	named   int32      // how many named referrer domains its visits came from
}

// hourCount is a link's visits in one UTC hour: every visit, the bots' part, the latest.
type hourCount struct {
	hour       int64 // Unix time divided by 3600
	visits     int64
	bots       int64
	lastMicros int64 // Unix microseconds, as PostgreSQL keeps timestamps
}

func (h *hourCount) add(v *Visit, hour int64) {
	at := v.At.UnixMicro()
	if h.visits == 0 || at > h.lastMicros {
		h.lastMicros = at
	}
	h.hour = hour
	h.visits++
	if v.Bot {
		h.bots++
	}
}

type valueCount struct {
	value string
	n     int64
}

// extraHour is an hour a link-day's own field does not hold: a batch that spans an hour's end.
type extraHour struct {
	group int32
	hourCount
}

type hourSlot struct {
	group int32
	hour  int64
}

// extraRow is a breakdown count a link-day's own fields do not hold: named referrers, Other,
// further device classes and countries. n is 0 for a referrer moved into Other.
type extraRow struct {
	group            int32
	dimension, value string
	n                int64
}

type rowKey struct {
	group            int32
	dimension, value string
}

// deviceKey is what a visit's device class depends on.
type deviceKey struct {
	userAgent string
	bot       bool
}

// visitGroups are a batch's visits summed per link-day. A VisitWriter keeps one and reuses its
// maps and slices from batch to batch.
type visitGroups struct {
	index     map[linkDay]int32
	groups    []dayGroup
	hourIndex map[hourSlot]int32
	hours     []extraHour
	rowIndex  map[rowKey]int32
	rows      []extraRow
	// devices holds each User-Agent's class: a batch holds few distinct User-Agents (a handful
	// of browser versions make most traffic). Referers are not remembered so: their paths make
	// most of them distinct, and a map of 50,000 of them cost more than parsing each.
	devices map[deviceKey]string
}

func newVisitGroups() visitGroups {
	return visitGroups{
		index: make(map[linkDay]int32), hourIndex: make(map[hourSlot]int32),
		rowIndex: make(map[rowKey]int32), devices: make(map[deviceKey]string),
	}
}

// sum counts visits, on top of what was counted since the last reset.
func (g *visitGroups) sum(visits []Visit) {
	for i := range visits {
		g.add(&visits[i])
	}
}

func (g *visitGroups) add(v *Visit) {
	unix := v.At.Unix()
	gi := g.group(linkDay{v.Domain, v.Code, unix / 86400})
	d := &g.groups[gi]
	if hour := unix / 3600; d.hour.visits == 0 || d.hour.hour == hour {
		d.hour.add(v, hour)
	} else {
		g.addHour(gi, v, hour)
	}
	g.addReferrer(gi, cleanText(breakdown.ReferrerDomain(v.Referer), maxReferer))
	g.count(gi, &d.device, breakdown.Device, g.deviceClass(v))
	if v.Country != "" {
		g.count(gi, &d.country, breakdown.Country, cleanText(v.Country, maxCountry))
	}
}

// group returns the index of ld's group, added when new.
func (g *visitGroups) group(ld linkDay) int32 {
	gi, ok := g.index[ld]
	if !ok {
		gi = int32(len(g.groups)) //nolint:gosec // a batch holds far fewer than 2^31 visits
		g.index[ld] = gi
		g.groups = append(g.groups, dayGroup{linkDay: ld})
	}
	return gi
}

func (g *visitGroups) addReferrer(gi int32, referrer string) {
	if referrer == breakdown.Direct {
		g.groups[gi].direct++
		return
	}
	rows := len(g.rows)
	g.addRow(gi, breakdown.Referrer, referrer, 1)
	if len(g.rows) > rows && breakdown.Named(referrer) {
		g.groups[gi].named++ // a domain new to the link-day
	}
}

func (g *visitGroups) addHour(gi int32, v *Visit, hour int64) {
	slot := hourSlot{gi, hour}
	i, ok := g.hourIndex[slot]
	if !ok {
		i = int32(len(g.hours)) //nolint:gosec // as in group
		g.hourIndex[slot] = i
		g.hours = append(g.hours, extraHour{group: gi})
	}
	g.hours[i].add(v, hour)
}

// count adds a visit with value to own, the link-day's field, when it is empty or holds value,
// and to an overflow row otherwise.
func (g *visitGroups) count(gi int32, own *valueCount, dimension, value string) {
	if own.n == 0 || own.value == value {
		own.value = value
		own.n++
		return
	}
	g.addRow(gi, dimension, value, 1)
}

// addRow adds n to an overflow row, added when new, and returns its index.
func (g *visitGroups) addRow(gi int32, dimension, value string, n int64) int32 {
	k := rowKey{gi, dimension, value}
	i, ok := g.rowIndex[k]
	if !ok {
		i = int32(len(g.rows)) //nolint:gosec // as in group
		g.rowIndex[k] = i
		g.rows = append(g.rows, extraRow{group: gi, dimension: dimension, value: value})
	}
	g.rows[i].n += n
	return i
}

func (g *visitGroups) deviceClass(v *Visit) string {
	k := deviceKey{v.UserAgent, v.Bot}
	device, ok := g.devices[k]
	if !ok {
		device = breakdown.DeviceClass(v.UserAgent, v.Bot)
		g.devices[k] = device
	}
	return device
}

// reset forgets the batch, keeping the room it took, and lets go of its strings.
func (g *visitGroups) reset() {
	clear(g.index)
	clear(g.hourIndex)
	clear(g.rowIndex)
	clear(g.devices)
	clear(g.groups)
	clear(g.rows)
	g.groups, g.hours, g.rows = g.groups[:0], g.hours[:0], g.rows[:0]
}
