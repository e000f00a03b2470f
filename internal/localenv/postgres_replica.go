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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// StartPostgresReplica makes a streaming replica of primary under runDir/postgres-replica, as
// CloudNativePG or Patroni run one: pg_basebackup copies the primary's data directory and, with
// -R, writes standby.signal and primary_conninfo, so the copy starts as a hot standby that
// replays the primary's WAL as it is written. Loopback clients may replicate: initdb's
// pg_hba.conf trusts them for replication too.
func StartPostgresReplica(ctx context.Context, runDir string, primary *Postgres) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	basebackup, err := findBinary("pg_basebackup", installPostgres, bin)
	if err != nil {
		return nil, err
	}
	server, err := findBinary("postgres", installPostgres, bin)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(runDir, "postgres-replica")
	root := os.Geteuid() == 0
	if err := ownDir(dir, root); err != nil {
		return nil, fmt.Errorf("create postgres replica directory: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := baseBackup(ctx, runDir, basebackup, data, primary.Port, root); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Port: port, Dir: dir}
	pg.proc = &process{
		name: "postgres-replica", path: server, runDir: runDir, logPath: filepath.Join(dir, "postgres.log"),
		unprivileged: root, stopSignal: syscall.SIGINT,
		args: append(postgresArgs(data, port, bin, nil), "-c", "hot_standby=on"),
	}
	return pg, pg.Start(ctx)
}

// baseBackup copies the primary into data with a fast checkpoint (a spread one waits minutes on
// an idle server) and streams the WAL written meanwhile.
func baseBackup(ctx context.Context, runDir, path, data string, primaryPort int, unprivileged bool) error {
	p := &process{
		name: "pg_basebackup", path: path, runDir: runDir, unprivileged: unprivileged,
		logPath: filepath.Join(filepath.Dir(data), "basebackup.log"),
		args: []string{
			"-h", "127.0.0.1", "-p", strconv.Itoa(primaryPort), "--username=postgres", "-D", data,
			"-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
		},
	}
	return p.run(ctx)
}

// Kill ends the server with SIGKILL, its backends with it, as a lost node ends: no shutdown
// checkpoint, connections cut. Start brings it back on its port after crash recovery.
func (p *Postgres) Kill() error {
	if p.proc == nil || p.proc.cmd == nil {
		return errors.New("kill postgres: not running")
	}
	defer func() { p.proc.cmd = nil }()
	// The server was started in a process group of its own; its backends are in it.
	if err := syscall.Kill(-p.proc.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill postgres: %w", err)
	}
	<-p.proc.done
	return nil
}
