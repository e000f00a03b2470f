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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the create API's metrics (DESIGN.md §5), on the registry they were made with.
type Metrics struct {
	requests          *prometheus.CounterVec
	batchSize         prometheus.Histogram
	rateLimited       *prometheus.CounterVec
	rateLimitFallback prometheus.Counter
	keys              prometheus.Gauge
	keysFileErrors    prometheus.Counter
}

// NewMetrics registers the API's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "shortlink_api_requests_total",
			Help: "Create API requests by operation (create, batch, get, list, visits, breakdown, update, delete) and result.",
		}, []string{"operation", "result"}),
		batchSize: promauto.With(reg).NewHistogram(prometheus.HistogramOpts{
			Name:    "shortlink_api_batch_size",
			Help:    "Links asked for in each well-formed batch create request.",
			Buckets: []float64{1, 10, 50, 100, 250, 500, 1000},
		}),
		rateLimited: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "shortlink_api_rate_limited_total",
			Help: "API requests refused with 429, by the limit that refused them (anon, ip, key).",
		}, []string{"scope"}),
		rateLimitFallback: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Name: "shortlink_api_rate_limit_fallback_total",
			Help: "Rate-limit decisions made by the in-process limiter because Redis could not decide.",
		}),
		keys: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Name: "shortlink_api_keys",
			Help: "API keys in use; 0 while the keys file cannot be read or parsed.",
		}),
		keysFileErrors: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Name: "shortlink_api_keys_file_errors_total",
			Help: "Reloads of the API keys file that failed to read or parse (once per distinct failure); every key is refused meanwhile.",
		}),
	}
	m.rateLimited.WithLabelValues(scopeIP)
	m.rateLimited.WithLabelValues(scopeKey)
	m.rateLimited.WithLabelValues(scopeAnon)
	return m
}

func (m *Metrics) request(operation, result string) {
	m.requests.WithLabelValues(operation, result).Inc()
}
