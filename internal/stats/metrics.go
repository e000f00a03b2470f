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

package stats

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Flush results, the values of the result label of shortlink_stats_flushes_total.
const (
	resultOK        = "ok"        // the batch was written
	resultDuplicate = "duplicate" // the batch id was already there: an earlier attempt committed
	resultError     = "error"     // the attempt failed; the batch is kept and retried
	resultRejected  = "rejected"  // PostgreSQL refused the batch as data; it was set aside
)

// metrics are the aggregator's Prometheus collectors. Names are a contract (DESIGN.md §5); no
// label ever carries a code, URL or host.
type metrics struct {
	flushes  *prometheus.CounterVec
	duration prometheus.Histogram
	rejected prometheus.Counter
}

// newMetrics registers the collectors on reg; with a nil reg they work but are not exported.
// Pending and dropped visits are read from the aggregator at scrape time, so Record touches no
// shared atomic.
func newMetrics(reg prometheus.Registerer, a *Aggregator) metrics {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortlink_stats_pending_visits",
		Help: "Visits held in memory and not yet written to PostgreSQL.",
	}, func() float64 { return float64(a.pending()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortlink_stats_pending_bytes",
		Help: "Bytes held by the visits not yet written to PostgreSQL, as bounded by --stats-max-pending-bytes.",
	}, func() float64 { return float64(a.pendingBytes()) })
	f.NewCounterFunc(prometheus.CounterOpts{
		Name: "shortlink_stats_dropped_visits_total",
		Help: "Visits dropped because the bound of held visits (count or bytes) was reached while PostgreSQL was unavailable.",
	}, func() float64 { return float64(a.droppedTotal()) })
	m := metrics{
		flushes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "shortlink_stats_flushes_total",
			Help: "Stats batch write attempts, by result: ok, duplicate (already committed), error (kept for retry), rejected (set aside).",
		}, []string{"result"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "shortlink_stats_flush_duration_seconds",
			Help:    "Time taken by one stats batch write attempt, successful or not.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		rejected: f.NewCounter(prometheus.CounterOpts{
			Name: "shortlink_stats_rejected_visits_total",
			Help: "Visits in batches PostgreSQL refused as data (SQLSTATE class 22 or 23), set aside and not retried.",
		}),
	}
	for _, r := range []string{resultOK, resultDuplicate, resultError, resultRejected} {
		m.flushes.WithLabelValues(r)
	}
	return m
}
