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

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// createRun holds what the create API scenarios share (issue 7): PostgreSQL + PgBouncer + Redis,
// the redirector with the API on (rate limits off, so the limits are not what is measured), and
// two baseline servers (test/bench/createbaseline): one that runs the API's own SQL through
// internal/store (the goals' baseline, issue 21 item 2) and the plain INSERT / COPY one (kept
// as a reference), all with pools of the same size through the same PgBouncer.
type createRun struct {
	h      *harness
	env    *localenv.Env
	runFor time.Duration
	pairs  int
	key    string
	api    *server
	// sameSQL runs the API's statements; plain runs one INSERT or COPY.
	sameSQL, plain *server
}

// createConns is the pool size of both the API (--api-max-conns, its default) and the baseline.
const createConns = 4

// Load shapes: many small creates at once; a few 1000-link batches at once.
const (
	createWorkers = 16
	batchWorkers  = 2
	batchSize     = 1000
)

// createScenarios measures creates per second and batch links per second against the baselines,
// then imports a million links. -steps picks among single, batch and import.
func createScenarios(ctx context.Context, h *harness) ([]Result, error) {
	c, err := newCreateRun(ctx, h)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var out []Result
	for _, step := range []struct {
		name string
		run  func(context.Context) ([]Result, error)
	}{{"single", c.single}, {"batch", c.batch}, {"import", c.importLinks}} {
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

func newCreateRun(ctx context.Context, h *harness) (*createRun, error) {
	c := &createRun{h: h, runFor: 5 * time.Second, pairs: 3, key: "bench-create-api-key-" + fmt.Sprint(os.Getpid())}
	if h.smoke {
		c.runFor, c.pairs = 2*time.Second, 1
	}
	env, err := localenv.Start(ctx, localenv.Options{PgBouncer: true, Redis: true})
	if err != nil {
		return nil, err
	}
	c.env = env
	if err := c.start(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *createRun) close() { _ = c.env.Stop() }

func (c *createRun) start(ctx context.Context) error {
	if err := store.Migrate(ctx, c.env.Postgres.URL("postgres")); err != nil {
		return err
	}
	dir := filepath.Join(c.env.RunDir, "api")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keys, codeKey := filepath.Join(dir, "keys"), filepath.Join(dir, "code-key")
	if err := os.WriteFile(keys, []byte("bench:"+c.key+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(codeKey, []byte("bench-code-key-0123456789"), 0o600); err != nil {
		return err
	}
	pg := c.env.PgBouncer.URL("postgres")
	addr, metrics := freeAddr(), freeAddr()
	args := []string{
		"--listen-address", addr, "--metrics-address", metrics, "--database-url", pg,
		"--redis-url", c.env.Redis.URL(), "--default-domain", benchHost, "--log-level", "warn",
		"--api", "--api-keys-file", keys, "--api-code-key-file", codeKey, "--api-max-conns", fmt.Sprint(createConns),
		"--pprof",
	}
	// Rate limits off through the environment twins, which a redirector without them ignores.
	noLimits := []string{"API_IP_RATE=0", "API_KEY_RATE=0"}
	p, err := c.env.StartProcess("redirector-api", filepath.Join(c.h.binDir, "redirector"), args, noLimits)
	if err != nil {
		return err
	}
	c.api = &server{name: "redirector-api", proc: p, url: "http://" + addr, metrics: "http://" + metrics}
	if err := waitHTTP(ctx, p, c.api.url+"/_/readyz"); err != nil {
		return err
	}
	if c.sameSQL, err = c.startBaseline(ctx, "store"); err != nil {
		return err
	}
	c.plain, err = c.startBaseline(ctx, "plain")
	return err
}

// startBaseline runs createbaseline with -sql kind, its pool sized as the API's.
func (c *createRun) startBaseline(ctx context.Context, kind string) (*server, error) {
	addr := freeAddr()
	p, err := c.env.StartProcess("createbaseline-"+kind, filepath.Join(c.h.binDir, "createbaseline"),
		[]string{"-listen", addr, "-database-url", c.env.PgBouncer.URL("postgres"), "-database-max-conns", fmt.Sprint(createConns), "-sql", kind}, nil)
	if err != nil {
		return nil, err
	}
	s := &server{name: "baseline " + kind, proc: p, url: "http://" + addr}
	return s, waitHTTP(ctx, p, s.url+"/_/readyz")
}

// single: one link per POST /api/v1/links, a code generated for each, against the same
// statements from the simplest handler, and one plain INSERT per request for reference.
func (c *createRun) single(ctx context.Context) ([]Result, error) {
	load := &postLoad{path: "/api/v1/links", key: c.key, body: []byte(`{"target":"https://example.com/bench/created"}`),
		want: http.StatusCreated, workers: createWorkers}
	s, err := c.compare(ctx, load)
	if err != nil {
		return nil, err
	}
	if err := c.profile(ctx, load, "create-single"); err != nil {
		return nil, err
	}
	name := "create: single links through PgBouncer"
	return []Result{
		createResult(name, s[0], s[1], fmt.Sprintf("the API's own SQL (internal/store) per request, same PgBouncer, pool %d", createConns)),
		referenceResult(name, s[0], s[2], fmt.Sprintf("plain pgx INSERT per request, same PgBouncer, pool %d", createConns)),
	}, nil
}

// batchBody is a batch create of batchSize links with generated codes.
func batchBody(prefix string) []byte {
	items := make([]string, batchSize)
	for i := range items {
		items[i] = fmt.Sprintf(`{"target":"https://example.com/%s/%d"}`, prefix, i)
	}
	return []byte(`{"links":[` + strings.Join(items, ",") + `]}`)
}

// batch: 1000 links per POST /api/v1/links:batch, codes generated, against the same statements
// from the simplest handler, and one plain COPY of the same 1000 links for reference.
func (c *createRun) batch(ctx context.Context) ([]Result, error) {
	load := &postLoad{path: "/api/v1/links:batch", key: c.key, body: batchBody("bench/batch"),
		want: http.StatusOK, batch: true, workers: batchWorkers}
	s, err := c.compare(ctx, load)
	if err != nil {
		return nil, err
	}
	if err := c.profile(ctx, load, "create-batch"); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("create: batch links (%d a request) through PgBouncer", batchSize)
	return []Result{
		createResult(name, s[0], s[1], fmt.Sprintf("the API's own SQL (internal/store) per request, same PgBouncer, pool %d", createConns)),
		referenceResult(name, s[0], s[2], fmt.Sprintf("plain pgx COPY per request, same PgBouncer, pool %d", createConns)),
	}, nil
}

// compare runs the API and the two baselines in turn (A B C A B C …) after a warm-up of each,
// and returns the medians of each, in that order, so all see the same background load and
// about the same table size.
func (c *createRun) compare(ctx context.Context, load *postLoad) ([]sample, error) {
	servers := []*server{c.api, c.sameSQL, c.plain}
	for _, s := range servers {
		if _, err := c.measure(ctx, s, load, c.runFor/2); err != nil {
			return nil, err
		}
	}
	runs := make([][]sample, len(servers))
	for range c.pairs {
		for i, s := range servers {
			x, err := c.measure(ctx, s, load, c.runFor)
			if err != nil {
				return nil, err
			}
			runs[i] = append(runs[i], x)
		}
	}
	out := make([]sample, len(servers))
	for i := range runs {
		out[i] = medianSample(runs[i])
	}
	return out, nil
}

// measure drives s with load for d; rps counts links stored a second, and the CPU is the
// server's own per link.
func (c *createRun) measure(ctx context.Context, s *server, load *postLoad, d time.Duration) (sample, error) {
	before, err := cpuTicks(s.proc.Pid())
	if err != nil {
		return sample{}, err
	}
	res, err := load.run(ctx, s.url, d)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", s.name, err)
	}
	after, err := cpuTicks(s.proc.Pid())
	if err != nil {
		return sample{}, err
	}
	if res.requests == 0 {
		return sample{}, fmt.Errorf("%s stored no links", s.name)
	}
	return sample{wrkResult: res, cpuUsPerReq: (after - before) / clockTicksPerSecond * 1e6 / res.requests}, nil
}

// profile records a CPU profile of the redirector while load drives it, into
// bin/bench/<name>.pprof, so that a missed goal comes with where the time went.
func (c *createRun) profile(ctx context.Context, load *postLoad, name string) error {
	secs := max(2, int(c.runFor.Seconds()))
	done := make(chan error, 1)
	go func() {
		_, err := load.run(ctx, c.api.url, time.Duration(secs+1)*time.Second)
		done <- err
	}()
	if err := c.writeProfile(ctx, secs, name); err != nil {
		return err
	}
	return <-done
}

// writeProfile records secs of the redirector's CPU profile into bin/bench/<name>.pprof.
func (c *createRun) writeProfile(ctx context.Context, secs int, name string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", c.api.metrics, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.h.binDir, name+".pprof"), data, 0o600)
}

// createResult reports throughput against the baseline's: the goal is links stored a second.
func createResult(name string, a, b sample, baseline string) Result {
	ratio := a.rps / b.rps
	return Result{
		Name: name, RPS: a.rps, P50ms: a.p50ms, P99ms: a.p99ms, CPUusPerReq: a.cpuUsPerReq,
		Baseline: baseline, BaselineRPS: b.rps, Ratio: ratio, Goal: "≥ 0.8 × baseline links/s", Met: ratio >= 0.8,
		Details: map[string]float64{"baseline_cpu_us_per_link": b.cpuUsPerReq, "baseline_p99_ms": b.p99ms, loadAverageKey: loadAverage()},
	}
}

// referenceResult is createResult against a baseline that prices less than the API must do
// (a plain INSERT or COPY): reported for comparison with earlier runs, with no goal.
func referenceResult(name string, a, b sample, baseline string) Result {
	r := createResult(name+", against a plain write (reference)", a, b, baseline)
	r.Goal, r.Met = "", false
	return r
}
