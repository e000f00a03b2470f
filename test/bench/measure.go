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
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/devenv"
)

// measureResync waits for one full resync of every link after convergence and counts what it
// wrote: rows of urls (physical row versions and the version sequence), Redis write commands,
// and apiserver writes. Nothing changed, so all must be zero.
func (o *operatorRun) measureResync(ctx context.Context) (Result, error) {
	time.Sleep(2 * time.Second) // let in-flight status patches land
	before, err := o.writeCounters(ctx)
	if err != nil {
		return Result{}, err
	}
	rowsBefore, err := o.rowVersions(ctx)
	if err != nil {
		return Result{}, err
	}
	reconciles, err := o.managerReconciles()
	if err != nil {
		return Result{}, err
	}
	target := reconciles + float64(o.links)
	err = devenv.Poll(ctx, 3*o.resync+time.Minute, "one resync of every link", func() (bool, error) {
		n, err := o.managerReconciles()
		return n >= target, err
	})
	if err != nil {
		return Result{}, err
	}
	time.Sleep(2 * time.Second)
	after, err := o.writeCounters(ctx)
	if err != nil {
		return Result{}, err
	}
	rowsAfter, err := o.rowVersions(ctx)
	if err != nil {
		return Result{}, err
	}
	d := map[string]float64{"postgres_rows_writes": changedRows(rowsBefore, rowsAfter)}
	total := d["postgres_rows_writes"]
	for k, v := range after {
		d[k+"_writes"] = v - before[k]
		total += v - before[k]
	}
	last, _ := o.managerReconciles()
	d["reconciles"] = last - reconciles
	return Result{Name: fmt.Sprintf("operator: resync of %d unchanged links", o.links),
		Goal: "0 writes to PostgreSQL, Redis and the apiserver", Met: total == 0, Details: d}, nil
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
	resp, err := http.Get("http://" + o.metricsAddr + "/metrics") //nolint:gosec,noctx // loopback
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return sumMetric(string(body), "controller_runtime_reconcile_total", func(labels string) bool {
		return strings.Contains(labels, `controller="shortlink"`)
	}), nil
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
