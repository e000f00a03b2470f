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

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options shape the connection pool.
type Options struct {
	// ViaPgBouncer says the URL points at PgBouncer in transaction pooling mode. PgBouncer 1.18
	// cannot carry prepared statements there, so the pool then sends every query as an unnamed
	// statement in one round trip (pgx.QueryExecModeExec).
	ViaPgBouncer bool
	// MaxConns caps the pool; zero keeps pgxpool's default.
	MaxConns int32
}

// Store reads and writes Shortlink's tables through one pgx pool. Components that must not queue
// behind each other (lookups and stats flushes) open a Store each.
type Store struct {
	pool *pgxpool.Pool
	// codes are api_code_seq values drawn ahead for generated creates.
	codes *codeValues
}

// Open builds a pool for url. It does not connect: the pool dials on first use and again after
// PostgreSQL comes back, so a process can start while the database is down. Use Ping to check.
//
// Statement timeouts come from the caller's context, never from a start-up parameter, which
// PgBouncer refuses; a URL asking for one through PgBouncer is rejected here rather than at the
// first connection.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if opts.ViaPgBouncer {
		if _, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; ok {
			return nil, errors.New("open store: PgBouncer refuses statement_timeout as a start-up parameter; use context deadlines")
		}
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{pool: pool, codes: newCodeValues()}, nil
}

// Close closes every connection, waiting for those in use to be released.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool, for pool metrics and for tests that read tables directly.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that PostgreSQL answers a query.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}
