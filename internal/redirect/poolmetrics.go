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
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// poolMetric is one statistic of a connection pool, read at scrape time.
type poolMetric[P any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(P) float64
}

// poolCollector exports the statistics of named pools, labelled `pool`. It reads them when
// Prometheus scrapes, so serving requests costs nothing.
type poolCollector[S any] struct {
	names   []string
	stats   func(name string) S
	metrics []poolMetric[S]
}

func (c *poolCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

func (c *poolCollector[S]) Collect(ch chan<- prometheus.Metric) {
	for _, name := range c.names {
		s := c.stats(name)
		for _, m := range c.metrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s), name)
		}
	}
}

func poolDesc[S any](name, help string, kind prometheus.ValueType, value func(S) float64) poolMetric[S] {
	return poolMetric[S]{desc: prometheus.NewDesc(name, help, []string{"pool"}, nil), kind: kind, value: value}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// NewDBPoolCollector exports pgxpool statistics as shortlink_db_pool_*{pool}, one series per
// named pool (e.g. "lookup" and "stats").
func NewDBPoolCollector(pools map[string]*pgxpool.Pool) prometheus.Collector {
	const p = "shortlink_db_pool_"
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &poolCollector[*pgxpool.Stat]{
		names: sortedNames(pools),
		stats: func(name string) *pgxpool.Stat { return pools[name].Stat() },
		metrics: []poolMetric[*pgxpool.Stat]{
			poolDesc(p+"acquired_connections", "Connections in use.", gauge,
				func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
			poolDesc(p+"idle_connections", "Idle connections.", gauge,
				func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
			poolDesc(p+"constructing_connections", "Connections being opened.", gauge,
				func(s *pgxpool.Stat) float64 { return float64(s.ConstructingConns()) }),
			poolDesc(p+"total_connections", "Open connections.", gauge,
				func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
			poolDesc(p+"max_connections", "Maximum size of the pool.", gauge,
				func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
			poolDesc(p+"acquires_total", "Connections acquired.", counter,
				func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
			poolDesc(p+"empty_acquires_total", "Acquires that had to wait for a connection.", counter,
				func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
			poolDesc(p+"canceled_acquires_total", "Acquires given up by their caller.", counter,
				func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
			poolDesc(p+"acquire_duration_seconds_total", "Time spent acquiring connections.", counter,
				func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
			poolDesc(p+"empty_acquire_wait_seconds_total", "Time spent waiting for a free connection.", counter,
				func(s *pgxpool.Stat) float64 { return s.EmptyAcquireWaitTime().Seconds() }),
			poolDesc(p+"new_connections_total", "Connections opened.", counter,
				func(s *pgxpool.Stat) float64 { return float64(s.NewConnsCount()) }),
		},
	}
}

// RedisPoolStatser is what NewRedisPoolCollector reads: *redis.Client.
type RedisPoolStatser interface {
	PoolStats() *redis.PoolStats
}

// NewRedisPoolCollector exports go-redis pool statistics as shortlink_redis_pool_*{pool}.
func NewRedisPoolCollector(clients map[string]RedisPoolStatser) prometheus.Collector {
	const p = "shortlink_redis_pool_"
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &poolCollector[*redis.PoolStats]{
		names: sortedNames(clients),
		stats: func(name string) *redis.PoolStats { return clients[name].PoolStats() },
		metrics: []poolMetric[*redis.PoolStats]{
			poolDesc(p+"total_connections", "Open connections.", gauge,
				func(s *redis.PoolStats) float64 { return float64(s.TotalConns) }),
			poolDesc(p+"idle_connections", "Idle connections.", gauge,
				func(s *redis.PoolStats) float64 { return float64(s.IdleConns) }),
			poolDesc(p+"hits_total", "Times a free connection was found in the pool.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.Hits) }),
			poolDesc(p+"misses_total", "Times no free connection was found in the pool.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.Misses) }),
			poolDesc(p+"timeouts_total", "Times waiting for a connection timed out.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.Timeouts) }),
			poolDesc(p+"waits_total", "Times a caller waited for a connection.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.WaitCount) }),
			poolDesc(p+"wait_seconds_total", "Time spent waiting for a connection.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.WaitDurationNs) / 1e9 }),
			poolDesc(p+"stale_connections_total", "Stale connections removed from the pool.", counter,
				func(s *redis.PoolStats) float64 { return float64(s.StaleConns) }),
		},
	}
}
