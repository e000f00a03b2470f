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
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("get link: %w", links.ErrNotFound), false},
		{"conflict", &ConflictError{Holder: "api"}, false},
		{"caller cancelled", fmt.Errorf("x: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"connection dropped", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
	}
	for _, tt := range tests {
		if got := IsUnavailable(tt.err); got != tt.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// A process may start while PostgreSQL is down: Open does not connect, Ping tells.
func TestOpenDoesNotNeedPostgres(t *testing.T) {
	t.Parallel()
	s := openStore(t, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", Options{})
	if err := s.Ping(context.Background()); !IsUnavailable(err) {
		t.Fatalf("ping with nothing listening = %v, want an unavailable error", err)
	}
}

// The same Store must report PostgreSQL going away as unavailability, and work again once it is
// back, without being reopened. It has its own server, since it stops it.
func TestStoreSurvivesPostgresRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := localenv.ForTest(t, localenv.Options{Postgres: true})
	if err := Migrate(ctx, env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, env.Postgres.URL("postgres"), Options{})
	mustUpsert(t, s, declared("up", "team-a/up", "uid-a", t0))

	if err := env.Postgres.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func(context.Context) error{
		func(ctx context.Context) error { _, err := s.Get(ctx, "", "up"); return err },
		func(ctx context.Context) error {
			_, err := s.UpsertDeclared(ctx, declared("up", "team-a/up", "uid-a", t0))
			return err
		},
		s.Ping,
	} {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := call(callCtx)
		cancel()
		t.Logf("With PostgreSQL down: %v", err)
		if !IsUnavailable(err) || errors.Is(err, links.ErrNotFound) {
			t.Fatalf("call with PostgreSQL down = %v, want an unavailable error", err)
		}
	}

	if err := env.Postgres.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// A pooled connection may still be the dead one on the first try; the pool must recover.
	deadline := time.Now().Add(time.Minute)
	for {
		row, err := s.Get(ctx, "", "up")
		if err == nil && row.OwnerUID == "uid-a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after PostgreSQL came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
