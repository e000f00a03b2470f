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

package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// redirectorScenarios measures the redirector against its same-run baselines (issue 4).
func redirectorScenarios(ctx context.Context, h *harness) ([]Result, error) {
	r, err := newRedirectRun(ctx, h)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var out []Result
	steps := []struct {
		name string
		run  func(context.Context) ([]Result, error)
	}{{"hot", r.hot}, {"realistic", r.realistic}, {"redis-tier", r.redisTier}, {"postgres-tier", r.postgresTier}, {"visits", r.visitsExact},
		{"million", r.million}, {"tail", r.tail}}
	for _, step := range steps {
		if !h.runsStep(step.name) {
			continue
		}
		res, err := step.run(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// hot: 1,000 links, uniformly random, all in memory, stats on — against the bare 302 server;
// then the same with stats off (the cost of counting). Open-loop latency is the tail step's.
func (r *redirectRun) hot(ctx context.Context) ([]Result, error) {
	script, err := writeScript(r.env.RunDir, "hot", 1000, false)
	if err != nil {
		return nil, err
	}
	on, err := r.startRedirector(ctx, "redirector-hot")
	if err != nil {
		return nil, err
	}
	defer func() { _ = on.proc.Stop() }()
	a, b, err := r.compare(ctx, on, r.bare, script)
	if err != nil {
		return nil, err
	}
	if err := r.profile(ctx, on, script, "redirect-hot"); err != nil {
		return nil, err
	}
	hot := result("redirect hot: 1,000 links in memory, stats on", a, b, "bare net/http 302",
		"cpu/req ≤ 1.18 × bare and rps ≥ 0.85 × bare", a.cpuUsPerReq <= 1.18*b.cpuUsPerReq && a.rps >= 0.85*b.rps)
	off, err := r.startRedirector(ctx, "redirector-nostats", "--stats=false")
	if err != nil {
		return nil, err
	}
	defer func() { _ = off.proc.Stop() }()
	a2, b2, err := r.compare(ctx, on, off, script)
	if err != nil {
		return nil, err
	}
	stats := result("stats cost: hot, stats on vs off", a2, b2, "the redirector with stats off",
		"cpu/req ≤ 1.07 × stats off", a2.cpuUsPerReq <= 1.07*b2.cpuUsPerReq)
	return []Result{hot, stats}, nil
}

// realistic: Zipf over 100,000 links with an in-process cache of 10,000 entries.
func (r *redirectRun) realistic(ctx context.Context) ([]Result, error) {
	script, err := writeScript(r.env.RunDir, "zipf", 100000, true)
	if err != nil {
		return nil, err
	}
	// Room for about 10,000 of these links: each weighs about 120 bytes (its 24-byte header, its
	// domain, code and target in a chunk, and 40 for its index slot), some of the most popular,
	// with shorter codes, a little less.
	s, err := r.startRedirector(ctx, "redirector-zipf", "--local-cache-bytes", strconv.Itoa(10_000*120))
	if err != nil {
		return nil, err
	}
	defer func() { _ = s.proc.Stop() }()
	a, b, err := r.compare(ctx, s, r.bare, script)
	if err != nil {
		return nil, err
	}
	if err := r.profile(ctx, s, script, "redirect-realistic"); err != nil {
		return nil, err
	}
	eff := b.cpuUsPerReq / a.cpuUsPerReq
	res := result("redirect realistic: Zipf over 100,000 links, 10,000 in memory", a, b, "bare net/http 302",
		"efficiency (bare cpu/req ÷ ours) ≥ 0.6", eff >= 0.6)
	res.Details["efficiency"] = eff
	return []Result{res}, nil
}

// redisTier: the in-process cache off, every request read from Redis.
func (r *redirectRun) redisTier(ctx context.Context) ([]Result, error) {
	script, err := writeScript(r.env.RunDir, "tier", 1000, false)
	if err != nil {
		return nil, err
	}
	s, err := r.startRedirector(ctx, "redirector-redis", "--local-cache-bytes", "-1")
	if err != nil {
		return nil, err
	}
	defer func() { _ = s.proc.Stop() }()
	a, b, err := r.compare(ctx, s, r.naiveRD, script)
	if err != nil {
		return nil, err
	}
	if err := r.profile(ctx, s, script, "redirect-redis-tier"); err != nil {
		return nil, err
	}
	return []Result{result("redirect Redis tier only (in-process cache off)", a, b, "one Redis GET per request",
		"cpu/req ≤ 1.1 × naive Redis server", a.cpuUsPerReq <= 1.1*b.cpuUsPerReq)}, nil
}

// postgresTier: both caches off, every request a query through PgBouncer.
func (r *redirectRun) postgresTier(ctx context.Context) ([]Result, error) {
	script, err := writeScript(r.env.RunDir, "tier", 1000, false)
	if err != nil {
		return nil, err
	}
	s, err := r.startRedirector(ctx, "redirector-pg", "--local-cache-bytes", "-1", "--redis-url", "")
	if err != nil {
		return nil, err
	}
	defer func() { _ = s.proc.Stop() }()
	a, b, err := r.compare(ctx, s, r.naivePG, script)
	if err != nil {
		return nil, err
	}
	if err := r.profile(ctx, s, script, "redirect-postgres-tier"); err != nil {
		return nil, err
	}
	tier := result("redirect PostgreSQL tier only, through PgBouncer", a, b, "one pgx query per request",
		"cpu/req ≤ 1.1 × naive pgx server", a.cpuUsPerReq <= 1.1*b.cpuUsPerReq)
	replica, err := r.postgresTierReplica(ctx, s, script)
	if err != nil {
		return nil, fmt.Errorf("with a read replica: %w", err)
	}
	return []Result{tier, replica}, nil
}

// postgresTierReplica: the same load on the redirector without a replica (s), then on one whose
// lookups go to a streaming replica (issue 19); PostgreSQL's own statement statistics count the
// lookups each server ran. The replica is reached directly: localenv has one PgBouncer, in
// front of the primary.
func (r *redirectRun) postgresTierReplica(ctx context.Context, s *server, script string) (Result, error) {
	primary := r.env.Postgres.URL("postgres")
	if err := execSQL(ctx, primary, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return Result{}, err
	}
	without, err := r.lookupRates(ctx, s, script, primary)
	if err != nil {
		return Result{}, err
	}
	rep, err := localenv.StartPostgresReplica(ctx, r.env.RunDir, r.env.Postgres)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = rep.Stop() }()
	withRep, err := r.startRedirector(ctx, "redirector-pg-replica", "--local-cache-bytes", "-1", "--redis-url", "",
		"--database-replica-url", rep.URL("postgres"))
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = withRep.proc.Stop() }()
	if err := waitReplicaOK(ctx, withRep); err != nil {
		return Result{}, err
	}
	if _, err := runWrk(ctx, script, withRep.url, r.runFor/2+time.Second); err != nil { // warm up
		return Result{}, err
	}
	with, err := r.lookupRates(ctx, withRep, script, primary, rep.URL("postgres"))
	if err != nil {
		return Result{}, err
	}
	share := with.perSec[0] / (with.perSec[0] + with.perSec[1])
	return Result{
		Name: "redirect PostgreSQL tier with a read replica: lookups on the primary", RPS: with.rps,
		P50ms: with.p50ms, P99ms: with.p99ms,
		Baseline: "the same without the replica", BaselineRPS: without.rps,
		Goal: "the primary serves < 1% of lookups", Met: share < 0.01,
		Details: map[string]float64{
			"primary_lookups_per_s_without_replica": without.perSec[0], "primary_lookups_per_s_with_replica": with.perSec[0],
			"replica_lookups_per_s": with.perSec[1], "primary_share": share, "loadavg_1m": loadAvg(),
			"non_redirects_without_replica": without.errors, "non_redirects_with_replica": with.errors,
		},
	}, nil
}

// lookupRate is a load's wrk figures and the lookups per second each server ran.
type lookupRate struct {
	wrkResult
	perSec []float64
}

// lookupRates drives s with script for runFor and counts the lookups each of urls executed. An
// answer other than a redirect is counted, not fatal: on this shared machine a lookup now and
// then outlasts its 500 ms deadline (503), which says nothing about where lookups go.
func (r *redirectRun) lookupRates(ctx context.Context, s *server, script string, urls ...string) (lookupRate, error) {
	before := make([]float64, len(urls))
	for i, u := range urls {
		var err error
		if before[i], err = lookupCalls(ctx, u); err != nil {
			return lookupRate{}, err
		}
	}
	start := time.Now()
	w, err := runWrk(ctx, script, s.url, r.runFor)
	if err != nil {
		return lookupRate{}, err
	}
	if w.requests == 0 {
		return lookupRate{}, fmt.Errorf("%s served no requests%s", s.name, s.answers(ctx))
	}
	took := time.Since(start).Seconds()
	out := lookupRate{wrkResult: w, perSec: make([]float64, len(urls))}
	for i, u := range urls {
		after, err := lookupCalls(ctx, u)
		if err != nil {
			return lookupRate{}, err
		}
		out.perSec[i] = (after - before[i]) / took
	}
	return out, nil
}

// lookupCalls is how often the server at url executed store.Lookup's statement, from its own
// statement statistics (a standby keeps its own).
func lookupCalls(ctx context.Context, url string) (float64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n float64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::float8 FROM pg_stat_statements
		WHERE query LIKE '%FROM urls%AND code = $2 AND NOT deleted%'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count lookups: %w", err)
	}
	return n, nil
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

// waitReplicaOK waits until s's replica has passed a check and takes lookups.
func waitReplicaOK(ctx context.Context, s *server) error {
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := scrape(ctx, s.metrics+"/metrics")
		if err == nil && plainMetric(m, `shortlink_replica_state{state="ok"}`) == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the replica never became usable%s", s.name, s.answers(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadAvg is the one-minute load average, reported with figures taken on a shared machine.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	return f
}

// visitsExact sends an exact number of redirects, stops the redirector gracefully, and
// compares url_stats with what was sent.
func (r *redirectRun) visitsExact(ctx context.Context) ([]Result, error) {
	s, err := r.startRedirector(ctx, "redirector-visits")
	if err != nil {
		return nil, err
	}
	n := 20000
	if r.h.smoke {
		n = 2000
	}
	paths := codes(1000)
	before, err := r.visitTotal(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := exactLoad(ctx, s.url, benchHost, paths, n, 32)
	if err != nil {
		return nil, err
	}
	if err := s.proc.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	if code := s.proc.Wait(); code != 0 {
		return nil, fmt.Errorf("redirector exited with %d after SIGTERM:\n%s", code, s.proc.LogTail())
	}
	after, err := r.visitTotal(ctx)
	if err != nil {
		return nil, err
	}
	sent := float64(counts[http.StatusFound])
	ratio := (after - before) / sent
	return []Result{{Name: "visits counted ÷ redirects sent, after a graceful stop", RPS: 0,
		Goal: "exactly 1", Met: ratio == 1 && int(sent) == n, Ratio: ratio,
		Details: map[string]float64{"redirects_sent": sent, "visits_counted": after - before}}}, nil
}

func (r *redirectRun) visitTotal(ctx context.Context) (float64, error) {
	conn, err := pgx.Connect(ctx, r.env.Postgres.URL("postgres"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var total float64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(visits), 0)::float8 FROM url_stats`).Scan(&total)
	return total, err
}
