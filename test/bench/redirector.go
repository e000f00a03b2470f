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
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/devenv"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// server is a process under load: a redirector or a baseline.
type server struct {
	name    string
	proc    *localenv.Process
	url     string
	metrics string // redirectors only: metrics and /debug/pprof
}

// redirectRun holds what the redirector scenarios share: one PostgreSQL + PgBouncer + Redis
// with 100,000 links loaded, and the baselines.
type redirectRun struct {
	h       *harness
	env     *localenv.Env
	dir     string
	runFor  time.Duration
	pairs   int
	bare    *server
	naiveRD *server
	naivePG *server
}

const benchHost = "sho.rt"

// benchUserAgent is desktop Chrome's User-Agent, sent with every redirect the bench makes: the
// redirector classifies each visit by it (internal/bots), and a browser's User-Agent is the
// longest path through that classification, so the figures include its cost.
const benchUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func newRedirectRun(ctx context.Context, h *harness) (*redirectRun, error) {
	r := &redirectRun{h: h, runFor: 5 * time.Second, pairs: 5}
	if h.smoke {
		r.runFor, r.pairs = time.Second, 1
	}
	env, err := localenv.Start(ctx, localenv.Options{PgBouncer: true, Redis: true})
	if err != nil {
		return nil, err
	}
	r.env, r.dir = env, filepath.Join(env.RunDir, "bench")
	if err := r.load(ctx, 100000); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if err := r.startBaselines(ctx); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return r, nil
}

func (r *redirectRun) close() { _ = r.env.Stop() }

// load writes n links into PostgreSQL (codes c1..cn), into Redis as the redirectors' change
// feed would (see fillCache), and, for the naive Redis baseline, into its own keys.
func (r *redirectRun) load(ctx context.Context, n int) error {
	if err := store.Migrate(ctx, r.env.Postgres.URL("postgres")); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, r.env.Postgres.URL("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, `INSERT INTO urls (domain, code, target, source, version, created_at)
		SELECT '', 'c' || g, 'https://example.com/landing/' || g, 'api', nextval('urls_version_seq'), now()
		FROM generate_series(1, $1::int) g`, n)
	if err != nil {
		return fmt.Errorf("load links: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.env.Redis.Addr()})
	defer func() { _ = rdb.Close() }()
	if err := r.fillCache(ctx, rdb); err != nil {
		return err
	}
	pipe := rdb.Pipeline()
	for i := 1; i <= n; i++ {
		pipe.Set(ctx, fmt.Sprintf("shortlink:bench:c%d", i), fmt.Sprintf("https://example.com/landing/%d", i), 0)
	}
	_, err = pipe.Exec(ctx)
	return err
}

// fillCache writes every link into Redis through internal/cache, from the change feed, as a
// running platform has it: the operator writes each declared link there, and the redirectors
// heal Redis from the feed for links written elsewhere. Without it the realistic scenario would
// measure a Redis that starts empty, read the long tail from PostgreSQL, and fill Redis during
// the measurement.
func (r *redirectRun) fillCache(ctx context.Context, rdb *redis.Client) error {
	st, err := store.Open(ctx, r.env.Postgres.URL("postgres"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	c := cache.New(rdb, cache.Options{})
	for after := int64(0); ; {
		rows, err := st.Changes(ctx, after, 5000)
		if err != nil || len(rows) == 0 {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for _, row := range rows {
			l := row.Link
			l.Version = row.Version
			g.Go(func() error {
				_, err := c.Set(gctx, l)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return fmt.Errorf("fill Redis: %w", err)
		}
		after = rows[len(rows)-1].Version
	}
}

func (r *redirectRun) startBaselines(ctx context.Context) error {
	bin := filepath.Join(r.h.binDir, "baseline")
	for _, b := range []struct {
		dst  **server
		mode string
		args []string
	}{
		{&r.bare, "bare", nil},
		{&r.naiveRD, "redis", []string{"-redis-url", r.env.Redis.URL()}},
		{&r.naivePG, "pgx", []string{"-database-url", r.env.PgBouncer.URL("postgres")}},
	} {
		addr := freeAddr()
		args := append([]string{"-mode", b.mode, "-listen", addr}, b.args...)
		p, err := r.env.StartProcess("baseline-"+b.mode, bin, args, nil)
		if err != nil {
			return err
		}
		*b.dst = &server{name: "baseline " + b.mode, proc: p, url: "http://" + addr}
		if err := waitHTTP(ctx, p, "http://"+addr+"/c1"); err != nil {
			return err
		}
	}
	return nil
}

// startRedirector runs cmd/redirector with extra flags on top of the bench defaults.
func (r *redirectRun) startRedirector(ctx context.Context, name string, flags ...string) (*server, error) {
	return r.startRedirectorEnv(ctx, name, nil, flags...)
}

// startRedirectorEnv is startRedirector with env added to the redirector's environment.
func (r *redirectRun) startRedirectorEnv(ctx context.Context, name string, env []string, flags ...string) (*server, error) {
	addr, metrics := freeAddr(), freeAddr()
	args := append([]string{
		"--listen-address", addr, "--metrics-address", metrics,
		"--database-url", r.env.PgBouncer.URL("postgres"), "--redis-url", r.env.Redis.URL(),
		"--default-domain", benchHost, "--log-level", "warn", "--pprof",
	}, flags...)
	p, err := r.env.StartProcess(name, filepath.Join(r.h.binDir, "redirector"), args, env)
	if err != nil {
		return nil, err
	}
	s := &server{name: name, proc: p, url: "http://" + addr, metrics: "http://" + metrics}
	return s, waitHTTP(ctx, p, s.url+"/_/readyz")
}

// answers says what a redirector answered so far, by result, and the end of its log, so that
// an unexpected answer comes with its kind.
func (s *server) answers(ctx context.Context) string {
	if s.metrics == "" {
		return ""
	}
	m, err := scrape(ctx, s.metrics+"/metrics")
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, res := range []string{"redirect", "not_found", "gone", "invalid", "error", "shed"} {
		fmt.Fprintf(&b, " %s=%.0f", res, sumMetric(m, "shortlink_redirect_requests_total", func(l string) bool {
			return strings.Contains(l, `result="`+res+`"`)
		}))
	}
	return fmt.Sprintf(" (answers:%s)\n%s", b.String(), s.proc.LogTail())
}

func waitHTTP(ctx context.Context, p *localenv.Process, url string) error {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return devenv.Poll(ctx, time.Minute, url, func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("exited:\n%s", p.LogTail())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Host = benchHost
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode < 500, nil
	})
}

// sample is one measured run of one server.
type sample struct {
	wrkResult
	cpuUsPerReq float64
}

func (r *redirectRun) measure(ctx context.Context, s *server, script string, d time.Duration) (sample, error) {
	before, err := cpuTicks(s.proc.Pid())
	if err != nil {
		return sample{}, err
	}
	w, err := runWrk(ctx, script, s.url, d)
	if err != nil {
		return sample{}, err
	}
	after, err := cpuTicks(s.proc.Pid())
	if err != nil {
		return sample{}, err
	}
	if w.requests == 0 {
		return sample{}, fmt.Errorf("%s served no requests", s.name)
	}
	if w.errors > 0 {
		return sample{}, fmt.Errorf("%s: %.0f errors or non-3xx answers under load (wrk: %s)", s.name, w.errors, w.errorLines)
	}
	return sample{wrkResult: w, cpuUsPerReq: (after - before) / clockTicksPerSecond * 1e6 / w.requests}, nil
}

// compare runs subject and baseline alternately (A B A B …) and returns the medians, so that
// both see the same background load on this shared machine.
func (r *redirectRun) compare(ctx context.Context, subject, baseline *server, script string) (a, b sample, err error) {
	for _, s := range []*server{subject, baseline} { // warm up: caches, connections, JIT-free but still
		if _, err := r.measure(ctx, s, script, r.runFor/2+time.Second); err != nil {
			return a, b, err
		}
	}
	var as, bs []sample
	for range r.pairs {
		x, err := r.measure(ctx, subject, script, r.runFor)
		if err != nil {
			return a, b, err
		}
		y, err := r.measure(ctx, baseline, script, r.runFor)
		if err != nil {
			return a, b, err
		}
		as, bs = append(as, x), append(bs, y)
	}
	return medianSample(as), medianSample(bs), nil
}

func medianSample(ss []sample) sample {
	pick := func(f func(sample) float64) float64 {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return median(xs)
	}
	return sample{
		wrkResult: wrkResult{
			rps:   pick(func(s sample) float64 { return s.rps }),
			p50ms: pick(func(s sample) float64 { return s.p50ms }),
			p99ms: pick(func(s sample) float64 { return s.p99ms }),
		},
		cpuUsPerReq: pick(func(s sample) float64 { return s.cpuUsPerReq }),
	}
}

func result(name string, a, b sample, baseline, goal string, met bool) Result {
	return Result{
		Name: name, RPS: a.rps, P50ms: a.p50ms, P99ms: a.p99ms, CPUusPerReq: a.cpuUsPerReq,
		Baseline: baseline, BaselineRPS: b.rps, Ratio: a.cpuUsPerReq / b.cpuUsPerReq, Goal: goal, Met: met,
		Details: map[string]float64{"baseline_cpu_us_per_req": b.cpuUsPerReq, "rps_ratio": a.rps / b.rps},
	}
}

// profile records a CPU profile of s while wrk drives it with script, into bin/bench/<name>.pprof,
// so that a missed goal comes with where the time went.
func (r *redirectRun) profile(ctx context.Context, s *server, script, name string) error {
	return r.profileWhile(ctx, s, name, func(ctx context.Context, d time.Duration) error {
		_, err := runWrk(ctx, script, s.url, d)
		return err
	})
}

// profileWhile records a CPU profile of s into bin/bench/<name>.pprof while drive loads it for
// a little longer than the profile lasts.
func (r *redirectRun) profileWhile(ctx context.Context, s *server, name string, drive func(context.Context, time.Duration) error) error {
	secs := max(2, int(r.runFor.Seconds()))
	done := make(chan error, 1)
	go func() { done <- drive(ctx, time.Duration(secs+1)*time.Second) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.metrics, secs), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.h.binDir, name+".pprof"), data, 0o600); err != nil {
		return err
	}
	return <-done
}

func codes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", i+1)
	}
	return out
}
