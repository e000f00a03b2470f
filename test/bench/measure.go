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
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/devenv"
)

// measureResync restarts the manager, which reconciles every link again from a fresh cache
// (a resync forced at once, rather than waiting out the ten-minute --resync-interval), and
// counts what that wrote: rows of urls (physical row versions and the version sequence), Redis
// write commands and apiserver writes. Nothing changed, so all must be zero. It also returns
// the restarted manager's peak RSS: listing every ShortLink at start is a peak of its own.
func (o *operatorRun) measureResync(ctx context.Context) (Result, float64, error) {
	time.Sleep(2 * time.Second) // let in-flight status patches land
	before, err := o.writeCounters(ctx)
	if err != nil {
		return Result{}, 0, err
	}
	rowsBefore, err := o.rowVersions(ctx)
	if err != nil {
		return Result{}, 0, err
	}
	if err := o.manager.Stop(); err != nil {
		return Result{}, 0, fmt.Errorf("stop manager: %w", err)
	}
	if err := o.startManager(ctx); err != nil {
		return Result{}, 0, err
	}
	err = devenv.Poll(ctx, 20*time.Minute, "one reconcile of every link after a restart", func() (bool, error) {
		n, err := o.managerReconciles()
		return n >= float64(o.links), err
	})
	if err != nil {
		return Result{}, 0, err
	}
	time.Sleep(2 * time.Second)
	after, err := o.writeCounters(ctx)
	if err != nil {
		return Result{}, 0, err
	}
	rowsAfter, err := o.rowVersions(ctx)
	if err != nil {
		return Result{}, 0, err
	}
	rss, err := peakRSSMB(o.manager.Pid())
	if err != nil {
		return Result{}, 0, err
	}
	d := map[string]float64{"postgres_rows_writes": changedRows(rowsBefore, rowsAfter)}
	total := d["postgres_rows_writes"]
	for k, v := range after {
		d[k+"_writes"] = v - before[k]
		total += v - before[k]
	}
	d["reconciles"], _ = o.managerReconciles()
	return Result{Name: fmt.Sprintf("operator: resync of %d unchanged links (manager restarted)", o.links),
		Goal: "0 writes to PostgreSQL, Redis and the apiserver", Met: total == 0, Details: d}, rss, nil
}

// profileConvergence takes a CPU profile of the manager while it works through the creates
// (30 s in a full run, 2 s in a smoke run) and writes it to bin/bench/operator-<links>.cpu.pprof,
// for `go tool pprof -top`. The channel yields the outcome once the profile is written.
func (o *operatorRun) profileConvergence(ctx context.Context) <-chan error {
	secs := 30
	if o.h.smoke {
		secs = 2
	}
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", o.pprofAddr, secs)
		path := filepath.Join(o.h.binDir, fmt.Sprintf("operator-%d.cpu.pprof", o.links))
		done <- saveURL(ctx, url, path)
	}()
	return done
}

// profileAPIServer takes a CPU profile of the API server over the same window as
// profileConvergence, into bin/bench/operator-<links>.apiserver.cpu.pprof: on this machine the
// API server, not the manager, is what limits convergence, and this says what it spends on.
// The bench's user is an admin, whom the API server lets read /debug/pprof.
func (o *operatorRun) profileAPIServer(ctx context.Context) <-chan error {
	secs := "30"
	if o.h.smoke {
		secs = "2"
	}
	done := make(chan error, 1)
	go func() {
		body, err := o.kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", secs).DoRaw(ctx)
		if err != nil {
			done <- fmt.Errorf("profile apiserver: %w", err)
			return
		}
		path := filepath.Join(o.h.binDir, fmt.Sprintf("operator-%d.apiserver.cpu.pprof", o.links))
		done <- os.WriteFile(path, body, 0o644) //nolint:gosec // a profile, for people to read
	}()
	return done
}

func saveURL(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile manager: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile manager: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("profile manager: %w", err)
	}
	return os.WriteFile(path, body, 0o644) //nolint:gosec // a profile, for people to read
}

// cost is what the manager and the API server had spent at one moment: CPU seconds, and
// the summed durations and counts of reconciles and of the API server's writes on ShortLinks.
type cost struct {
	managerCPU, apiserverCPU               float64
	reconcileSum, reconcileCount           float64
	apiserverWriteSum, apiserverWriteCount float64
}

func (o *operatorRun) costs(ctx context.Context) (cost, error) {
	var c cost
	body, err := o.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return c, fmt.Errorf("read apiserver metrics: %w", err)
	}
	api := string(body)
	c.apiserverCPU = plainMetric(api, "process_cpu_seconds_total")
	isWrite := func(l string) bool {
		return strings.Contains(l, `resource="shortlinks"`) && (strings.Contains(l, `verb="PATCH"`) || strings.Contains(l, `verb="PUT"`))
	}
	c.apiserverWriteSum = sumMetric(api, "apiserver_request_duration_seconds_sum", isWrite)
	c.apiserverWriteCount = sumMetric(api, "apiserver_request_duration_seconds_count", isWrite)
	ticks, err := cpuTicks(o.manager.Pid())
	if err != nil {
		return c, err
	}
	c.managerCPU = ticks / 100
	if c.reconcileSum, err = o.managerMetric("controller_runtime_reconcile_time_seconds_sum", `controller="shortlink"`); err != nil {
		return c, err
	}
	c.reconcileCount, err = o.managerMetric("controller_runtime_reconcile_time_seconds_count", `controller="shortlink"`)
	return c, err
}

// since reports, per link, the CPU each side spent between c0 and c, and the mean durations.
func (c cost) since(c0 cost, links float64) map[string]float64 {
	mean := func(sum, count float64) float64 {
		if count == 0 {
			return 0
		}
		return sum / count * 1000
	}
	return map[string]float64{
		"manager_cpu_ms_per_link":   (c.managerCPU - c0.managerCPU) / links * 1000,
		"apiserver_cpu_ms_per_link": (c.apiserverCPU - c0.apiserverCPU) / links * 1000,
		"reconcile_mean_ms":         mean(c.reconcileSum-c0.reconcileSum, c.reconcileCount-c0.reconcileCount),
		"apiserver_write_mean_ms":   mean(c.apiserverWriteSum-c0.apiserverWriteSum, c.apiserverWriteCount-c0.apiserverWriteCount),
	}
}

func (o *operatorRun) writeCounters(ctx context.Context) (map[string]float64, error) {
	// last_value moves on every upsert attempt.
	var seq float64
	if err := o.pg.QueryRow(ctx, `SELECT last_value::float8 FROM urls_version_seq`).Scan(&seq); err != nil {
		return nil, fmt.Errorf("read version sequence: %w", err)
	}
	info, err := o.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	redisWrites := 0.0
	for _, cmd := range []string{"set", "evalsha", "eval", "del", "publish"} {
		redisWrites += commandCalls(info, cmd)
	}
	api, err := o.apiserverWrites(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"postgres_sequence": seq, "redis": redisWrites, "apiserver": api}, nil
}

// rowVersions maps every urls row to its xmin, which changes on any write to the row.
func (o *operatorRun) rowVersions(ctx context.Context) (map[string]string, error) {
	rows, err := o.pg.Query(ctx, `SELECT domain || '/' || code, xmin::text FROM urls`)
	if err != nil {
		return nil, fmt.Errorf("read row versions: %w", err)
	}
	defer rows.Close()
	versions := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		versions[k] = v
	}
	return versions, rows.Err()
}

// changedRows counts rows written, added or removed between two snapshots.
func changedRows(before, after map[string]string) float64 {
	n := 0.0
	for k, v := range after {
		if before[k] != v {
			n++
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			n++
		}
	}
	return n
}

func commandCalls(info, cmd string) float64 {
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.ParseFloat(strings.SplitN(rest, ",", 2)[0], 64)
			return n
		}
	}
	return 0
}

func (o *operatorRun) managerReconciles() (float64, error) {
	return o.managerMetric("controller_runtime_reconcile_total", `controller="shortlink"`)
}

// managerMetric sums the samples of one of the manager's metrics whose labels contain label;
// without a label, it reads the metric that has none.
func (o *operatorRun) managerMetric(name, label string) (float64, error) {
	resp, err := http.Get("http://" + o.metricsAddr + "/metrics") //nolint:gosec,noctx // loopback
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if label == "" {
		return plainMetric(string(body), name), nil
	}
	return sumMetric(string(body), name, func(labels string) bool { return strings.Contains(labels, label) }), nil
}

// sumMetric adds the samples of a Prometheus text-format metric whose labels pass keep.
func sumMetric(text, name string, keep func(labels string) bool) float64 {
	total := 0.0
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !keep(labels) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err == nil {
			total += v
		}
	}
	return total
}

// peakRSSMB is the process's peak resident set (VmHWM) in MB.
func peakRSSMB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
