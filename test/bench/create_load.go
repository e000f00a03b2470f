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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// postLoad is a closed-loop POST load: workers each send the same JSON body, one request after
// another, for a while. wrk would need a Lua script per body and cannot read batch answers.
type postLoad struct {
	path, key string
	body      []byte
	// want is the status of a success; batch answers {"created":N}, which counts N links.
	want    int
	batch   bool
	workers int
}

func (l *postLoad) client() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: l.workers}}
}

// run drives baseURL for d; requests counts links stored, rps links a second, and the
// percentiles are of request latency. Any answer but want ends the run with an error.
func (l *postLoad) run(ctx context.Context, baseURL string, d time.Duration) (wrkResult, error) {
	client := l.client()
	deadline := time.Now().Add(d)
	var (
		mu       sync.Mutex
		links    int
		lat      []float64
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			n := 0
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				status, created, body, err := l.post(ctx, client, baseURL)
				if err == nil && status != l.want {
					err = fmt.Errorf("answer %d, want %d: %.300s", status, l.want, body)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, float64(time.Since(t0).Microseconds())/1000)
				n += created
			}
			mu.Lock()
			links += n
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if firstErr != nil {
		return wrkResult{}, firstErr
	}
	if len(lat) == 0 {
		return wrkResult{}, fmt.Errorf("no request finished in %s", d)
	}
	sort.Float64s(lat)
	return wrkResult{requests: float64(links), rps: float64(links) / elapsed,
		p50ms: lat[len(lat)/2], p99ms: lat[len(lat)*99/100]}, nil
}

// post sends the body once and returns the status, the links it stored, and the answer.
func (l *postLoad) post(ctx context.Context, client *http.Client, baseURL string) (status, created int, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+l.path, bytes.NewReader(l.body))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != l.want {
		return resp.StatusCode, 0, body, err
	}
	if !l.batch {
		return resp.StatusCode, 1, body, nil
	}
	var answer struct {
		Created int `json:"created"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return resp.StatusCode, 0, body, fmt.Errorf("batch answer: %w", err)
	}
	return resp.StatusCode, answer.Created, body, nil
}
