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

package localenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const installPostgres = "install PostgreSQL 15 (Debian: apt-get install postgresql-15, or run hack/install-deps.sh)"

// Postgres is a PostgreSQL server run directly as a child process (no pg_ctl, no cluster
// wrapper), with durability switched off for speed: its data is throwaway.
type Postgres struct {
	// Port is the loopback TCP port; it stays the same across Stop and Start.
	Port int
	// Dir holds the data directory and the log.
	Dir string

	proc *process
}

// postgresBinDir finds the server binaries: $SHORTLINK_PG_BIN, else the newest Debian layout.
func postgresBinDir() (string, error) {
	if dir := os.Getenv("SHORTLINK_PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	if path, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(path), nil
	}
	return "", fmt.Errorf("%w: postgres not found; %s", ErrMissingBinary, installPostgres)
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// PostgresOptions open the server beyond loopback, for clients that are not on this host's
// loopback (the real node's pods).
type PostgresOptions struct {
	// Listen are addresses to listen on besides 127.0.0.1.
	Listen []string
	// PasswordFrom are networks (CIDR) whose clients may log in with a SCRAM password;
	// loopback clients stay trusted.
	PasswordFrom []string
}

// StartPostgres initialises a cluster under runDir/postgres and starts it on loopback.
func StartPostgres(ctx context.Context, runDir string) (*Postgres, error) {
	return StartPostgresWith(ctx, runDir, PostgresOptions{})
}

// StartPostgresWith is StartPostgres with the server opened as opts say.
func StartPostgresWith(ctx context.Context, runDir string, opts PostgresOptions) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	initdb, err := findBinary("initdb", installPostgres, bin)
	if err != nil {
		return nil, err
	}
	server, err := findBinary("postgres", installPostgres, bin)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(runDir, "postgres")
	root := os.Geteuid() == 0
	if err := ownDir(dir, root); err != nil {
		return nil, fmt.Errorf("create postgres directory: %w", err)
	}
	data := filepath.Join(dir, "data")
	init := &process{
		name: "initdb", path: initdb, runDir: runDir, logPath: filepath.Join(dir, "initdb.log"), unprivileged: root,
		args: []string{"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
	}
	if err := init.run(ctx); err != nil {
		return nil, err
	}
	if err := allowPasswords(data, opts.PasswordFrom); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Port: port, Dir: dir}
	pg.proc = &process{
		name: "postgres", path: server, runDir: runDir, logPath: filepath.Join(dir, "postgres.log"),
		unprivileged: root, stopSignal: syscall.SIGINT, // SIGINT is PostgreSQL's fast shutdown
		args: postgresArgs(data, port, bin, opts.Listen),
	}
	return pg, pg.Start(ctx)
}

// allowPasswords appends a SCRAM line per network to pg_hba.conf.
func allowPasswords(data string, networks []string) error {
	if len(networks) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pg_hba.conf: %w", err)
	}
	for _, n := range networks {
		if _, err := fmt.Fprintf(f, "host all all %s scram-sha-256\n", n); err != nil {
			_ = f.Close()
			return fmt.Errorf("pg_hba.conf: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pg_hba.conf: %w", err)
	}
	return nil
}

func postgresArgs(data string, port int, bin string, listen []string) []string {
	args := []string{
		"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=" + strings.Join(append([]string{"127.0.0.1"}, listen...), ","),
		"-c", "unix_socket_directories=",
		"-c", "max_connections=300",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "log_min_messages=warning",
	}
	// Statement statistics let tests count what PostgreSQL itself executed.
	lib := filepath.Join(filepath.Dir(bin), "lib", "pg_stat_statements.so")
	if _, err := os.Stat(lib); err == nil {
		args = append(args, "-c", "shared_preload_libraries=pg_stat_statements")
	}
	return args
}

// URL is a connection string for database db on this server.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// Start starts the server (again) on its port and waits until it accepts queries.
func (p *Postgres) Start(ctx context.Context) error {
	if err := p.proc.start(); err != nil {
		return err
	}
	return p.proc.waitReady(func() error { return ping(ctx, p.URL("postgres")) })
}

// Stop shuts the server down; its data stays for the next Start.
func (p *Postgres) Stop() error { return p.proc.stop() }

// CreateDatabase creates an empty database, so that tests sharing a server stay apart.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// startTimeout bounds how long any server may take to become ready.
const startTimeout = 60 * time.Second

// ping connects with the simple protocol (it works through PgBouncer too) and runs SELECT 1.
func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}
