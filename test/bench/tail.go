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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// backendNice is the CPU niceness of PostgreSQL, PgBouncer and Redis in the tail step: in a
// cluster they run on other machines, so here they should take the cores only when the
// redirector and the generator leave them idle.
const backendNice = 10

// tailLinks are the codes the tail step requests: the hot scenario's 1,000, all in memory.
const tailLinks = 1000

// tail measures open-loop latency at half the bare server's rate (issue 21 item 1): the bare
// server, the redirector with stats off and with stats on, driven by the same generator in
// turn, with PostgreSQL, PgBouncer and Redis reniced. They are a separate set started for this
// step, so that no other step runs beside niced backends.
func (r *redirectRun) tail(ctx context.Context) ([]Result, error) {
	t, err := r.nicedRun(ctx)
	if err != nil {
		return nil, err
	}
	defer t.close()
	script, err := writeScript(t.env.RunDir, "tail", tailLinks, false)
	if err != nil {
		return nil, err
	}
	rate, err := t.bareRate(ctx, script)
	if err != nil {
		return nil, err
	}
	on, err := t.startRedirector(ctx, "redirector-tail-stats")
	if err != nil {
		return nil, err
	}
	defer func() { _ = on.proc.Stop() }()
	off, err := t.startRedirector(ctx, "redirector-tail-nostats", "--stats=false")
	if err != nil {
		return nil, err
	}
	defer func() { _ = off.proc.Stop() }()
	load0 := loadAverage()
	lat, err := t.openLoops(ctx, rate/2, []*server{t.bare, off, on})
	if err != nil {
		return nil, err
	}
	if !r.h.smoke {
		if err := t.profileOpenLoop(ctx, on, rate/2, "redirect-tail"); err != nil {
			return nil, err
		}
	}
	load := max(load0, loadAverage())
	bare := lat[0]
	return []Result{
		tailResult("stats off", lat[1], bare, rate, 1.3, load),
		tailResult("stats on", lat[2], bare, rate, 1.5, load),
	}, nil
}

// nicedRun starts PostgreSQL, PgBouncer and Redis of their own, loads the tail's links into
// them as newRedirectRun does, and renices them (openLoops renices again after its warm-up);
// the bare server is shared, as it uses none.
func (r *redirectRun) nicedRun(ctx context.Context) (*redirectRun, error) {
	env, err := localenv.Start(ctx, localenv.Options{PgBouncer: true, Redis: true})
	if err != nil {
		return nil, err
	}
	t := &redirectRun{h: r.h, env: env, dir: filepath.Join(env.RunDir, "bench"), runFor: r.runFor, pairs: r.pairs, bare: r.bare}
	if err := t.load(ctx, tailLinks); err != nil {
		t.close()
		return nil, err
	}
	if err := env.Renice(backendNice); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// bareRate is the bare server's closed-loop rate (wrk, as in the hot step): the median of as
// many runs as the step has pairs, after a warm-up.
func (r *redirectRun) bareRate(ctx context.Context, script string) (float64, error) {
	if _, err := r.measure(ctx, r.bare, script, r.runFor/2+time.Second); err != nil {
		return 0, err
	}
	rates := make([]float64, r.pairs)
	for i := range rates {
		s, err := r.measure(ctx, r.bare, script, r.runFor)
		if err != nil {
			return 0, err
		}
		rates[i] = s.rps
	}
	return median(rates), nil
}

// latency is the median over rounds of one server's open-loop percentiles, and of the time its
// threads waited for a CPU while runnable, per request: what a CPU profile cannot show.
type latency struct{ p50, p99, waitUs float64 }

// openLoops drives each server in turn at rate, round after round (A B C A B C …, after a
// warm-up of each), and returns each one's medians, so all see the same background load. The
// rounds are short and many (three times the step's pairs, half as long): on this shared
// machine a burst of other work lasting seconds lands on one server's round, and the median
// over many rounds leaves it out.
func (r *redirectRun) openLoops(ctx context.Context, rate float64, servers []*server) ([]latency, error) {
	paths := codes(tailLinks)
	round := r.runFor / 2
	for _, s := range servers {
		if _, _, err := openLoop(ctx, s.url, benchHost, paths, rate, round); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// Again, now that the warm-up has made PgBouncer open its server connections: each new
	// backend starts an autogroup of its own at the default niceness (localenv.Env.Renice).
	if err := r.env.Renice(backendNice); err != nil {
		return nil, err
	}
	rounds := make([][]latency, len(servers))
	for range 3 * r.pairs {
		for i, s := range servers {
			l, err := openLoopRound(ctx, s, paths, rate, round)
			if err != nil {
				return nil, err
			}
			rounds[i] = append(rounds[i], l)
		}
	}
	out := make([]latency, len(servers))
	for i, ls := range rounds {
		pick := func(f func(latency) float64) float64 {
			xs := make([]float64, len(ls))
			for j, l := range ls {
				xs[j] = f(l)
			}
			return median(xs)
		}
		out[i] = latency{p50: pick(func(l latency) float64 { return l.p50 }), p99: pick(func(l latency) float64 { return l.p99 }),
			waitUs: pick(func(l latency) float64 { return l.waitUs })}
	}
	return out, nil
}

// openLoopRound is one open-loop run of s, with the run-queue wait of its threads meanwhile.
func openLoopRound(ctx context.Context, s *server, paths []string, rate float64, d time.Duration) (latency, error) {
	before, err := runQueueWait(s.proc.Pid())
	if err != nil {
		return latency{}, err
	}
	p50, p99, err := openLoop(ctx, s.url, benchHost, paths, rate, d)
	if err != nil {
		return latency{}, fmt.Errorf("%s: %w", s.name, err)
	}
	after, err := runQueueWait(s.proc.Pid())
	if err != nil {
		return latency{}, err
	}
	return latency{p50: p50, p99: p99, waitUs: float64((after - before).Microseconds()) / (rate * d.Seconds())}, nil
}

// runQueueWait is how long pid's threads have waited runnable for a CPU, summed: the second
// field of /proc/<pid>/task/<tid>/schedstat. A thread that exited takes its share with it,
// which the Go runtime's long-lived threads rarely do.
func runQueueWait(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("threads of %d: %v", pid, err)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t) //nolint:gosec // /proc paths we built
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(data)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total, nil
}

// profileOpenLoop records a CPU profile of s while the open loop drives it at rate, into
// bin/bench/<name>.pprof, so that a missed goal comes with where the time went.
func (r *redirectRun) profileOpenLoop(ctx context.Context, s *server, rate float64, name string) error {
	return r.profileWhile(ctx, s, name, func(ctx context.Context, d time.Duration) error {
		_, _, err := openLoop(ctx, s.url, benchHost, codes(tailLinks), rate, d)
		return err
	})
}

// tailResult is one row of the tail step: ours against bare at the same rate, by p99.
func tailResult(stats string, ours, bare latency, bareRate, most, load float64) Result {
	ratio := ours.p99 / bare.p99
	return Result{
		Name: fmt.Sprintf("redirect tail: open loop at %.0f req/s (half the bare rate), %s, backends niced", bareRate/2, stats),
		RPS:  bareRate / 2, P50ms: ours.p50, P99ms: ours.p99,
		Baseline: "bare net/http 302, same rate and generator", BaselineRPS: bareRate, Ratio: ratio,
		Goal: fmt.Sprintf("p99 ≤ %.1f × bare's", most), Met: ratio <= most,
		Details: map[string]float64{"bare_p50_ms": bare.p50, "bare_p99_ms": bare.p99, loadAverageKey: load,
			"runqueue_wait_us_per_req": ours.waitUs, "bare_runqueue_wait_us_per_req": bare.waitUs},
	}
}

// loadAverageKey names loadAverage in a result's details.
const loadAverageKey = "load_average_1m"

// loadAverage is the machine's one-minute load average, reported beside figures measured on a
// shared machine; 0 when it cannot be read.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(fields[0], 64)
	return f
}
