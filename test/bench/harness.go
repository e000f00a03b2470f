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
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// Result is one row of bin/bench/results.json (DESIGN §6). Details holds what a scenario
// measures beyond the common columns.
type Result struct {
	Name        string             `json:"name"`
	RPS         float64            `json:"rps"`
	P50ms       float64            `json:"p50_ms"`
	P99ms       float64            `json:"p99_ms"`
	CPUusPerReq float64            `json:"cpu_us_per_req"`
	Baseline    string             `json:"baseline"`
	BaselineRPS float64            `json:"baseline_rps"`
	Ratio       float64            `json:"ratio"`
	Goal        string             `json:"goal"`
	Met         bool               `json:"met"`
	Details     map[string]float64 `json:"details,omitempty"`
}

type scenario struct {
	name string
	// binaries are the commands the scenario runs, built from ./cmd or ./test/bench.
	binaries []string
	run      func(ctx context.Context, h *harness) ([]Result, error)
}

func scenarios() []scenario {
	return []scenario{
		{name: "operator", binaries: []string{"./cmd/manager"}, run: operatorScenario},
		{name: "operator-rollup", binaries: []string{"./cmd/manager", "./cmd/redirector"}, run: rollupScenario}, //nolint:goconst // the list reads best spelled out
		{name: "redirector", binaries: []string{"./cmd/redirector", "./test/bench/baseline"}, run: redirectorScenarios},
		{name: "platform", run: liveScenario},
		{name: "create", binaries: []string{"./cmd/redirector", "./test/bench/createbaseline"}, run: createScenarios},
	}
}

func matches(name, only string) bool { return only == "" || strings.Contains(name, only) }

// harness holds what every scenario shares: the repository root, built binaries, the mode.
type harness struct {
	root    string
	binDir  string
	smoke   bool
	steps   string // the redirector steps to run, comma-separated; all when empty
	results []Result
}

// runsStep reports whether the redirector step named is to run.
func (h *harness) runsStep(name string) bool {
	return h.steps == "" || slices.Contains(strings.Split(h.steps, ","), name)
}

func newHarness(smoke bool) (*harness, error) {
	root, err := localenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	h := &harness{root: root, binDir: filepath.Join(root, "bin", "bench"), smoke: smoke}
	return h, os.MkdirAll(h.binDir, 0o750)
}

// build compiles the packages into bin/bench, named after their last path element.
func (h *harness) build(ctx context.Context, pkgs []string) error {
	for _, pkg := range pkgs {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(h.binDir, filepath.Base(pkg)), pkg) //nolint:gosec // our own packages
		build.Dir, build.Stdout, build.Stderr = h.root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	return nil
}

func (h *harness) close() {}

func (h *harness) missedGoals() []string {
	var missed []string
	for _, r := range h.results {
		if r.Goal != "" && !r.Met {
			missed = append(missed, r.Name)
		}
	}
	return missed
}

func printTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "scenario\trps\tp50 ms\tp99 ms\tcpu µs/req\tbaseline\tratio\tgoal\tmet")
	for _, r := range results {
		_, _ = fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.1f\t%s\t%.2f\t%s\t%v\n",
			r.Name, r.RPS, r.P50ms, r.P99ms, r.CPUusPerReq, r.Baseline, r.Ratio, r.Goal, r.Met)
		for _, k := range sortedKeys(r.Details) {
			_, _ = fmt.Fprintf(tw, "  %s\t%.2f\t\t\t\t\t\t\t\n", k, r.Details[k])
		}
	}
	_ = tw.Flush()
}

func writeResults(path string, results []Result) error {
	host, _ := os.Hostname()
	doc := struct {
		Machine   string   `json:"machine"`
		Date      string   `json:"date"`
		Scenarios []Result `json:"scenarios"`
	}{
		Machine:   fmt.Sprintf("%s %s/%s, %d CPUs", host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Date:      time.Now().UTC().Format(time.RFC3339),
		Scenarios: results,
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644) //nolint:gosec // results are for people to read
}
