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

// Command createbaseline serves the same-run baselines of the create API's benchmarks: the
// simplest HTTP server that stores what it is sent in urls through PgBouncer, and nothing else —
// no key check, no URL policy, no rate limit, no code permutation. POST /api/v1/links decodes
// {"target"}; POST /api/v1/links:batch decodes {"links":[{"target"}…]}. The pool is sized like
// the API's. Two kinds of store, by -sql:
//
//   - plain: one plain INSERT a link, one plain COPY a batch. Codes are "b<pid>-<counter>";
//     version takes the column default (nextval of urls_version_seq), as every write to urls must.
//   - store: exactly what the API runs, through internal/store's own methods and pool
//     (CreateGeneratedAPILink; CreateAPILinks: the temporary table, COPY, then INSERT … ON
//     CONFLICT … RETURNING), so the baseline cannot drift from the API's SQL. Codes come from
//     api_code_seq as the API's do, written in base 36 after "b_" rather than through the API's
//     keyed permutation; no code the API makes has an underscore.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortlink-dev/shortlink/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "createbaseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("createbaseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	dbURL := fs.String("database-url", "", "PgBouncer URL")
	maxConns := fs.Int("database-max-conns", 4, "pool size, as the create API's (--api-max-conns)")
	sql := fs.String("sql", "plain", "plain: one INSERT or COPY; store: the API's own SQL, through internal/store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	handlers, closeDB, err := newCreator(ctx, *sql, *dbURL, *maxConns)
	if err != nil {
		return err
	}
	defer closeDB()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/links", handlers.create)
	mux.HandleFunc("POST /api/v1/links:batch", handlers.batch)
	mux.HandleFunc("GET /_/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := handlers.ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.WithoutCancel(ctx)) }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// creator is what each kind of store serves.
type creator interface {
	create(w http.ResponseWriter, r *http.Request)
	batch(w http.ResponseWriter, r *http.Request)
	ping(ctx context.Context) error
}

// newCreator opens the pool of the kind of store asked for, and returns how to close it.
func newCreator(ctx context.Context, kind, dbURL string, maxConns int) (creator, func(), error) {
	switch kind {
	case "plain":
		pool, err := openPlain(ctx, dbURL, maxConns)
		if err != nil {
			return nil, nil, err
		}
		return &baseline{pool: pool, prefix: "b" + strconv.Itoa(os.Getpid()) + "-"}, pool.Close, nil
	case "store":
		// The options the redirector opens the API's store with (cmd/redirector/api.go).
		st, err := store.Open(ctx, dbURL, store.Options{ViaPgBouncer: true, MaxConns: int32(min(maxConns, 1<<20))}) //nolint:gosec // bounded
		if err != nil {
			return nil, nil, err
		}
		return &sameSQL{store: st}, st.Close, nil
	}
	return nil, nil, fmt.Errorf("-sql %q: want plain or store", kind)
}

// openPlain is the plain baseline's pool: sized as the API's, in the mode PgBouncer needs.
func openPlain(ctx context.Context, dbURL string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec // PgBouncer, transaction pooling
	cfg.MaxConns = int32(min(maxConns, 1<<20))                  //nolint:gosec // bounded
	return pgxpool.NewWithConfig(ctx, cfg)
}

type baseline struct {
	pool   *pgxpool.Pool
	prefix string
	next   atomic.Int64
}

// codeAnswer is a single create's answer: the code stored.
type codeAnswer struct {
	Code string `json:"code"`
}

type link struct {
	Target string `json:"target"`
}

func (b *baseline) ping(ctx context.Context) error { return b.pool.Ping(ctx) }

func (b *baseline) code() string { return b.prefix + strconv.FormatInt(b.next.Add(1), 36) }

func (b *baseline) create(w http.ResponseWriter, r *http.Request) {
	l, ok := decodeLink(w, r)
	if !ok {
		return
	}
	code := b.code()
	_, err := b.pool.Exec(r.Context(), `INSERT INTO urls (domain, code, target, source, created_at)
		VALUES ('', $1, $2, 'api', now())`, code, l.Target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusCreated, codeAnswer{Code: code})
}

func (b *baseline) batch(w http.ResponseWriter, r *http.Request) {
	ls, ok := decodeBatch(w, r)
	if !ok {
		return
	}
	now := time.Now()
	rows := make([][]any, len(ls))
	for i, l := range ls {
		rows[i] = []any{"", b.code(), l.Target, "api", now}
	}
	n, err := b.pool.CopyFrom(r.Context(), pgx.Identifier{"urls"},
		[]string{"domain", "code", "target", "source", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"created": n})
}

// decodeLink reads a single create's body, answering 400 when it is not one.
func decodeLink(w http.ResponseWriter, r *http.Request) (link, bool) {
	var l link
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&l); err != nil || l.Target == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return link{}, false
	}
	return l, true
}

// decodeBatch reads a batch create's body, answering 400 when it is not one.
func decodeBatch(w http.ResponseWriter, r *http.Request) ([]link, bool) {
	var req struct {
		Links []link `json:"links"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&req); err != nil || len(req.Links) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil, false
	}
	return req.Links, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
