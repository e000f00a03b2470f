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

package localcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// The database and the role the platform uses; the role logs in with a password from the pods,
// as it would against a managed PostgreSQL.
const (
	Database = "shortlink"
	User     = "shortlink"
)

// Backends are PostgreSQL and Redis outside the cluster, listening on loopback and on the
// node's address, which every pod reaches: the production shape the chart documents.
type Backends struct {
	Env      *localenv.Env
	password string
}

// StartBackends starts PostgreSQL (SCRAM logins from the pod range) and Redis on the node's
// address, and creates the platform's role and database. The node must be up: its bridge
// holds the address they bind.
func StartBackends(ctx context.Context) (b *Backends, err error) {
	env, err := localenv.Start(ctx, localenv.Options{
		Postgres: true,
		PostgresOptions: localenv.PostgresOptions{
			Listen: []string{localnode.NodeIP}, PasswordFrom: []string{localnode.PodCIDR},
		},
		Redis:     true,
		RedisArgs: []string{"--bind", "127.0.0.1 " + localnode.NodeIP},
	})
	if err != nil {
		return nil, fmt.Errorf("localcluster: backends: %w", err)
	}
	b = &Backends{Env: env, password: randomHex(16)}
	if err := b.createRole(ctx); err != nil {
		return nil, fmt.Errorf("localcluster: backends: %w", err)
	}
	return b, nil
}

func (b *Backends) createRole(ctx context.Context) (err error) {
	conn, err := pgx.Connect(ctx, b.Env.Postgres.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	role := pgx.Identifier{User}.Sanitize()
	for _, sql := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD '" + b.password + "'", // hex: nothing to escape
		"CREATE DATABASE " + pgx.Identifier{Database}.Sanitize() + " OWNER " + role,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql[:20], err)
		}
	}
	return nil
}

// Stop stops PostgreSQL and Redis and removes their data.
func (b *Backends) Stop() error { return b.Env.Stop() }

// DatabaseURL is the platform's database from this host, as the platform's role.
func (b *Backends) DatabaseURL() string {
	return b.url("127.0.0.1", b.Env.Postgres.Port, "sslmode=disable")
}

// RedisURL is Redis from this host.
func (b *Backends) RedisURL() string { return b.Env.Redis.URL() }

// SecretData is the backends Secret (docs/install.md) for an install whose PgBouncer Service is
// pgbouncerHost: the manager goes straight to PostgreSQL, the redirectors through PgBouncer,
// and PgBouncer to PostgreSQL, each by the node's address.
func (b *Backends) SecretData(pgbouncerHost string) map[string]string {
	port := b.Env.Postgres.Port
	return map[string]string{
		"database-url":  b.url(localnode.NodeIP, port, "sslmode=disable&pool_max_conns=10"),
		"pgbouncer-url": b.url(pgbouncerHost, 5432, "sslmode=disable"),
		"redis-url":     fmt.Sprintf("redis://%s:%d/0", localnode.NodeIP, b.Env.Redis.Port),
		"pgbouncer-databases.ini": fmt.Sprintf("[databases]\n%s = host=%s port=%d dbname=%s\n",
			Database, localnode.NodeIP, port, Database),
		"pgbouncer-userlist.txt": fmt.Sprintf("%q %q\n", User, b.password),
	}
}

func (b *Backends) url(host string, port int, query string) string {
	u := url.URL{
		Scheme: "postgres", User: url.UserPassword(User, b.password),
		Host: host + ":" + strconv.Itoa(port), Path: "/" + Database, RawQuery: query,
	}
	return u.String()
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails (crypto/rand)
	return hex.EncodeToString(buf)
}
