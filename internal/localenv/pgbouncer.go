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
	"path/filepath"
	"strings"
)

const installPgBouncer = "install PgBouncer (Debian: apt-get install pgbouncer, or run hack/install-deps.sh)"

// PgBouncer runs in transaction pooling mode in front of a Postgres, as in production.
// Through it, prepared statements do not survive (PgBouncer 1.18), so pgx pools that use it
// must run in QueryExecModeExec.
type PgBouncer struct {
	// Port is the loopback TCP port; it stays the same across Stop and Start.
	Port int
	// Dir holds the configuration and the log.
	Dir string

	proc *process
}

// PgBouncerOptions size the pools; zero values take defaults close to the chart's.
type PgBouncerOptions struct {
	DefaultPoolSize int
	MaxClientConn   int
}

// StartPgBouncer configures PgBouncer under runDir/pgbouncer for every database of pg and starts it.
func StartPgBouncer(ctx context.Context, runDir string, pg *Postgres, opts PgBouncerOptions) (*PgBouncer, error) {
	bin, err := findBinary("pgbouncer", installPgBouncer, "/usr/sbin")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(runDir, "pgbouncer")
	root := os.Geteuid() == 0
	if err := ownDir(dir, root); err != nil {
		return nil, fmt.Errorf("create pgbouncer directory: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := writePgBouncerConfig(dir, ini, port, pg.Port, opts); err != nil {
		return nil, err
	}
	b := &PgBouncer{Port: port, Dir: dir}
	b.proc = &process{
		name: "pgbouncer", path: bin, args: []string{ini}, runDir: runDir,
		logPath: filepath.Join(dir, "pgbouncer.log"), unprivileged: root,
	}
	return b, b.Start(ctx)
}

func writePgBouncerConfig(dir, ini string, port, pgPort int, opts PgBouncerOptions) error {
	if opts.DefaultPoolSize == 0 {
		opts.DefaultPoolSize = 20
	}
	if opts.MaxClientConn == 0 {
		opts.MaxClientConn = 2000
	}
	users := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(users, []byte(`"postgres" ""`+"\n"), 0o644); err != nil { //nolint:gosec // read by pgbouncer as nobody
		return fmt.Errorf("write pgbouncer userlist: %w", err)
	}
	conf := strings.Join([]string{
		"[databases]",
		fmt.Sprintf("* = host=127.0.0.1 port=%d", pgPort),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		fmt.Sprintf("listen_port = %d", port),
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + users,
		"admin_users = postgres",
		"pool_mode = transaction",
		fmt.Sprintf("default_pool_size = %d", opts.DefaultPoolSize),
		fmt.Sprintf("max_client_conn = %d", opts.MaxClientConn),
		"ignore_startup_parameters = extra_float_digits",
		"server_login_retry = 1",
		"log_connections = 0",
		"log_disconnections = 0",
		"",
	}, "\n")
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil { //nolint:gosec // read by pgbouncer as nobody
		return fmt.Errorf("write pgbouncer.ini: %w", err)
	}
	return nil
}

// URL is a connection string for database db through PgBouncer.
func (b *PgBouncer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.Port, db)
}

// Start starts PgBouncer (again) on its port and waits until a query passes through it.
func (b *PgBouncer) Start(ctx context.Context) error {
	if err := b.proc.start(); err != nil {
		return err
	}
	return b.proc.waitReady(func() error { return ping(ctx, b.URL("postgres")) })
}

// Stop shuts PgBouncer down at once, dropping its client connections.
func (b *PgBouncer) Stop() error { return b.proc.stop() }
