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
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// importCount is how many links the import step sends; the smoke run sends importSmokeLinks.
const (
	importCount      = 1_000_000
	importSmokeLinks = 10_000
	// importWorkers is one batch in flight for each connection of the API's pool.
	importWorkers = createConns
	// importProfileSeconds is how much of the import the CPU profile covers.
	importProfileSeconds = 10
)

// importLinks sends a million links through POST /api/v1/links:batch, 1,000 a request with
// generated codes, from importWorkers clients at once (issue 21 item 2), and checks that
// PostgreSQL holds exactly that many more of the bench key's links afterwards.
func (c *createRun) importLinks(ctx context.Context) ([]Result, error) {
	n := importCount
	if c.h.smoke {
		n = importSmokeLinks
	}
	before, err := c.benchLinks(ctx)
	if err != nil {
		return nil, err
	}
	load := &postLoad{path: "/api/v1/links:batch", key: c.key, body: batchBody("bench/import"),
		want: http.StatusOK, batch: true, workers: importWorkers}
	profiled := make(chan error, 1)
	go func() {
		if c.h.smoke {
			profiled <- nil
			return
		}
		profiled <- c.writeProfile(ctx, importProfileSeconds, "create-import")
	}()
	start := time.Now()
	created, err := load.requests(ctx, c.api.url, n/batchSize)
	took := time.Since(start)
	if perr := <-profiled; err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	after, err := c.benchLinks(ctx)
	if err != nil {
		return nil, err
	}
	added := after - before
	return []Result{{
		Name: fmt.Sprintf("create: %d links imported through the batch endpoint, generated codes", n),
		RPS:  float64(created) / took.Seconds(), Goal: "≤ 60 s, every link stored",
		Met: took <= time.Minute && created == n && added == int64(n),
		Details: map[string]float64{"seconds": took.Seconds(), "links_created": float64(created), "rows_added": float64(added),
			loadAverageKey: loadAverage()},
	}}, nil
}

// benchLinks counts the live links the bench's key made, in PostgreSQL itself.
func (c *createRun) benchLinks(ctx context.Context) (int64, error) {
	conn, err := pgx.Connect(ctx, c.env.Postgres.URL("postgres"))
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM urls WHERE owner = 'bench' AND source = 'api' AND NOT deleted`).Scan(&n)
	return n, err
}

// requests sends count requests, spread over the load's workers, and returns the links they
// stored. Any answer but the one wanted ends it with an error.
func (l *postLoad) requests(ctx context.Context, baseURL string, count int) (int, error) {
	client := l.client()
	var (
		left    atomic.Int64
		created atomic.Int64
		wg      sync.WaitGroup
		errs    = make([]error, l.workers)
	)
	left.Store(int64(count))
	for w := range l.workers {
		wg.Go(func() {
			for left.Add(-1) >= 0 && ctx.Err() == nil {
				status, n, body, err := l.post(ctx, client, baseURL)
				if err == nil && status != l.want {
					err = fmt.Errorf("answer %d, want %d: %.300s", status, l.want, body)
				}
				if err != nil {
					errs[w] = err
					return
				}
				created.Add(int64(n))
			}
		})
	}
	wg.Wait()
	for _, err := range append(errs, ctx.Err()) {
		if err != nil {
			return 0, fmt.Errorf("import: %w", err)
		}
	}
	return int(created.Load()), nil
}
