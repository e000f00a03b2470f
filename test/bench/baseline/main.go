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

// Command baseline serves the same-run baselines of `make bench`: the simplest servers that do
// what a redirector must, and nothing else. bare answers a fixed 302 (the ceiling); redis does
// one Redis GET per request; pgx does one query through PgBouncer per request, with the same
// pool settings as the redirector's lookup pool.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	mode := fs.String("mode", "bare", "bare, redis or pgx")
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	redisURL := fs.String("redis-url", "", "Redis URL (mode redis)")
	dbURL := fs.String("database-url", "", "PgBouncer URL (mode pgx)")
	maxConns := fs.Int("database-max-conns", 20, "pool size (mode pgx), as the redirector's lookup pool")
	if err := fs.Parse(args); err != nil {
		return err
	}
	handler, closeFn, err := newHandler(ctx, *mode, *redisURL, *dbURL, int32(*maxConns)) //nolint:gosec // a small flag value
	if err != nil {
		return err
	}
	defer closeFn()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", handler)
	srv := &http.Server{Addr: *listen, Handler: mux} //nolint:gosec // a loopback benchmark server
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.WithoutCancel(ctx)) }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newHandler(ctx context.Context, mode, redisURL, dbURL string, maxConns int32) (http.HandlerFunc, func(), error) {
	switch mode {
	case "bare":
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "https://example.com/")
			w.WriteHeader(http.StatusFound)
		}, func() {}, nil
	case "redis":
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, nil, err
		}
		rdb := redis.NewClient(opts)
		return func(w http.ResponseWriter, r *http.Request) {
			target, err := rdb.Get(r.Context(), "shortlink:bench:"+r.PathValue("code")).Result()
			respond(w, target, err)
		}, func() { _ = rdb.Close() }, nil
	case "pgx":
		cfg, err := pgxpool.ParseConfig(dbURL)
		if err != nil {
			return nil, nil, err
		}
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
		cfg.MaxConns = maxConns
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return func(w http.ResponseWriter, r *http.Request) {
			var target string
			err := pool.QueryRow(r.Context(), `SELECT target FROM urls WHERE domain = '' AND code = $1 AND NOT deleted`,
				r.PathValue("code")).Scan(&target)
			respond(w, target, err)
		}, pool.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown mode %q", mode)
}

func respond(w http.ResponseWriter, target string, err error) {
	switch {
	case errors.Is(err, redis.Nil) || errors.Is(err, pgx.ErrNoRows):
		http.NotFound(w, nil)
	case err != nil:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	default:
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
	}
}
