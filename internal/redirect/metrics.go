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

package redirect

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// result is the `result` label of the redirect metrics (DESIGN.md §5).
type result uint8

const (
	resultRedirect result = iota
	resultNotFound
	resultGone
	resultInvalid
	resultError
	resultShed
	numResults
)

var resultNames = [numResults]string{"redirect", "not_found", "gone", "invalid", "error", "shed"}

// tier and outcome are the labels of shortlink_cache_requests_total.
type tier uint8

const (
	tierLocal tier = iota
	tierRedis
	tierDB
	numTiers
)

var tierNames = [numTiers]string{"local", "redis", "db"}

type outcome uint8

const (
	outcomeHit outcome = iota
	outcomeMiss
	outcomeNegative
	outcomeError
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"hit", "miss", "negative", "error"}

// source is the label of shortlink_invalidations_total.
type source uint8

const (
	sourcePubSub source = iota
	sourcePoll
	numSources
)

var sourceNames = [numSources]string{"pubsub", "poll"}

const labelResult = "result"

// durationBuckets resolve 50µs at the bottom: a redirect from memory takes tens of
// microseconds, one from Redis a few hundred, one from PostgreSQL a millisecond or more.
var durationBuckets = []float64{
	50e-6, 100e-6, 250e-6, 500e-6, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5,
}

// Metrics are the redirector's metrics with the names and labels of DESIGN.md §5. Every label
// child is resolved once here, so counting a request is an atomic add with no lookup or
// allocation.
type Metrics struct {
	requests      [numResults]prometheus.Counter
	durations     [numResults]prometheus.Observer
	cache         [numTiers][numOutcomes]prometheus.Counter
	invalidations [numSources]prometheus.Counter
	qrScans       [numResults]prometheus.Counter
	postgresUp    prometheus.Gauge
	redisUp       prometheus.Gauge
	// local is the resolver's in-process cache, read by the shortlink_local_cache_* gauges.
	local atomic.Pointer[localCache]
	// factory registers the metrics of parts only some resolvers have (a read replica).
	factory promauto.Factory
}

// NewMetrics registers the metrics on reg, which should be the process's own registry
// (prometheus.NewRegistry), never the global one.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	requests := f.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_redirect_requests_total",
		Help: "Requests for short codes, by result.",
	}, []string{labelResult})
	durations := f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "shortlink_redirect_duration_seconds",
		Help:    "Time to answer a request for a short code, by result.",
		Buckets: durationBuckets,
	}, []string{labelResult})
	cacheRequests := f.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_cache_requests_total",
		Help: "Link lookups per resolver tier (local, redis, db) and result (hit, miss, negative, error; a Redis call skipped by the circuit breaker is an error).",
	}, []string{"tier", labelResult})
	invalidations := f.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_invalidations_total",
		Help: "Link changes applied to the in-process caches, by source (pubsub, poll).",
	}, []string{"source"})
	qrScans := f.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_qr_scans_total",
		Help: "GET requests for short codes that carry the QR scan marker (?_qr=1), by result; a redirected one is also a visit.",
	}, []string{labelResult})
	up := f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "shortlink_dependency_up",
		Help: "Whether a dependency answers: postgres, the last lookup or change-feed read succeeded; redis, its circuit breaker is closed.",
	}, []string{"dependency"})
	m := &Metrics{postgresUp: up.WithLabelValues("postgres"), redisUp: up.WithLabelValues("redis"), factory: f}
	registerLocalCacheGauges(f, &m.local)
	for r := range numResults {
		m.requests[r] = requests.WithLabelValues(resultNames[r])
		m.durations[r] = durations.WithLabelValues(resultNames[r])
		m.qrScans[r] = qrScans.WithLabelValues(resultNames[r])
	}
	for t := range numTiers {
		for o := range numOutcomes {
			m.cache[t][o] = cacheRequests.WithLabelValues(tierNames[t], outcomeNames[o])
		}
	}
	for s := range numSources {
		m.invalidations[s] = invalidations.WithLabelValues(sourceNames[s])
	}
	m.postgresUp.Set(1)
	m.redisUp.Set(1)
	return m
}

func (m *Metrics) observeRequest(r result, d time.Duration) {
	m.requests[r].Inc()
	m.durations[r].Observe(d.Seconds())
}

func (m *Metrics) qrScan(r result) { m.qrScans[r].Inc() }

func (m *Metrics) cacheRequest(t tier, o outcome) { m.cache[t][o].Inc() }

func (m *Metrics) invalidation(s source) { m.invalidations[s].Inc() }

func setUp(g prometheus.Gauge, up bool) {
	if up {
		g.Set(1)
	} else {
		g.Set(0)
	}
}
