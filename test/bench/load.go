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
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	requests float64
	rps      float64
	p50ms    float64
	p99ms    float64
	errors   float64
	// errorLines are wrk's own lines behind errors (socket errors by kind, non-3xx count), so a
	// failed run says whether it timed out, was refused or was answered with an error.
	errorLines string
}

// runWrk drives url's host with the request script for d, one thread and 64 connections (the
// setting the reference figures use), and parses wrk's summary.
func runWrk(ctx context.Context, script, baseURL string, d time.Duration) (wrkResult, error) {
	secs := max(1, int(d.Round(time.Second).Seconds()))                                                                   // wrk takes whole seconds
	cmd := exec.CommandContext(ctx, "wrk", "-t1", "-c64", fmt.Sprintf("-d%ds", secs), "--latency", "-s", script, baseURL) //nolint:gosec // ours, loopback
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRequests.FindStringSubmatch(out)
	n := wrkRPS.FindStringSubmatch(out)
	if m == nil || n == nil {
		return r, fmt.Errorf("unexpected wrk output:\n%s", out)
	}
	r.requests, _ = strconv.ParseFloat(m[1], 64)
	r.rps, _ = strconv.ParseFloat(n[1], 64)
	if e := wrkErrors.FindStringSubmatch(out); e != nil {
		r.errors, _ = strconv.ParseFloat(e[1], 64)
		r.errorLines += strings.TrimSpace(e[0]) + "; "
	}
	if s := wrkSocket.FindStringSubmatch(out); s != nil {
		for _, v := range s[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			r.errors += x
		}
		r.errorLines += strings.TrimSpace(s[0])
	}
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		switch p[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if p[1] == "50" {
			r.p50ms = v
		} else {
			r.p99ms = v
		}
	}
	return r, nil
}

// writeScript writes a wrk Lua script that requests /c<n> for n drawn uniformly from 1..links,
// or from a Zipf distribution (s = 1.01) when zipf is set, on benchHost.
func writeScript(dir, name string, links int, zipf bool) (string, error) {
	return writeScriptFor(dir, name, "c", links, zipf)
}

// writeScriptFor is writeScript for the codes /<prefix><n>.
func writeScriptFor(dir, name, prefix string, links int, zipf bool) (string, error) {
	pick := fmt.Sprintf("math.random(1, %d)", links)
	setup := ""
	if zipf {
		// Inverse-CDF sampling over a table built once per thread.
		setup = fmt.Sprintf(`local cdf = {}
local total = 0
for i = 1, %[1]d do total = total + 1 / (i ^ 1.01); cdf[i] = total end
for i = 1, %[1]d do cdf[i] = cdf[i] / total end
local function zipf()
  local u, lo, hi = math.random(), 1, %[1]d
  while lo < hi do local mid = math.floor((lo + hi) / 2); if cdf[mid] < u then lo = mid + 1 else hi = mid end end
  return lo
end
`, links)
		pick = "zipf()"
	}
	script := fmt.Sprintf(`%smath.randomseed(os.time())
wrk.headers["Host"] = %q
wrk.headers["User-Agent"] = %q
request = function()
  return wrk.format("GET", %q .. %s)
end
`, setup, benchHost, benchUserAgent, "/"+prefix, pick)
	path := filepath.Join(dir, name+".lua")
	return path, os.WriteFile(path, []byte(script), 0o600)
}

// cpuTicks is a process's user + system CPU time in clock ticks (1/100 s on Linux).
func cpuTicks(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	const utime, stime = 11, 12 // fields 14 and 15 of stat, counted after the command name
	u, err1 := strconv.ParseFloat(fields[utime], 64)
	s, err2 := strconv.ParseFloat(fields[stime], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return u + s, nil
}

const clockTicksPerSecond = 100

// exactLoad sends exactly n GET requests from `workers` goroutines and counts the answers by
// status, so that a count kept elsewhere can be compared with it exactly.
func exactLoad(ctx context.Context, baseURL, host string, paths []string, n, workers int) (map[int]int, error) {
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: workers},
	}
	var next atomic.Int64
	var mu sync.Mutex
	counts := map[int]int{}
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/"+paths[int(i)%len(paths)], nil)
				req.Host = host
				req.Header.Set("User-Agent", benchUserAgent)
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				mu.Lock()
				counts[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return counts, err
	}
	return counts, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
