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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const installRedis = "install Redis (Debian: apt-get install redis-server, or run hack/install-deps.sh)"

// Redis is a redis-server with persistence off: Shortlink keeps only rebuildable data there.
type Redis struct {
	// Port is the loopback TCP port; it stays the same across Stop and Start.
	Port int
	// Dir holds the configuration and the log.
	Dir string

	proc *process
	// password, when set, is every client's password (requirepass), also for readiness.
	password string
}

// StartRedis configures Redis under runDir/redis and starts it.
func StartRedis(ctx context.Context, runDir string) (*Redis, error) {
	return StartRedisWithArgs(ctx, runDir)
}

// StartRedisWithArgs is StartRedis with redis-server command-line options ("--maxmemory",
// "4mb", …), which override the configuration file, so a test can run Redis as a manifest
// configures it.
func StartRedisWithArgs(ctx context.Context, runDir string, args ...string) (*Redis, error) {
	r, err := newRedis(runDir, "redis", nil, "")
	if err != nil {
		return nil, err
	}
	r.proc.args = append(r.proc.args, args...)
	return r, r.Start(ctx)
}

// newRedis configures, without starting it, a redis-server in runDir/name on a free port;
// extra lines follow the common configuration, and a password is required when set.
func newRedis(runDir, name string, extra []string, password string) (*Redis, error) {
	bin, err := findBinary("redis-server", installRedis, "/usr/bin")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(runDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s directory: %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "redis.conf")
	lines := []string{
		"bind 127.0.0.1",
		fmt.Sprintf("port %d", port),
		"protected-mode no",
		"daemonize no",
		`save ""`,
		"appendonly no",
		"dir " + dir,
		"maxclients 10000",
		"loglevel warning",
		// As the evaluation installs run it: never evict. Tombstones and rate-limit buckets
		// must not vanish to make room; a full Redis refuses writes instead (docs/operations.md).
		"maxmemory-policy noeviction",
	}
	if password != "" {
		// masterauth too: a replica, or a master demoted by a failover, logs in to its master.
		lines = append(lines, "requirepass "+password, "masterauth "+password)
	}
	lines = append(lines, extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s redis.conf: %w", name, err)
	}
	r := &Redis{Port: port, Dir: dir, password: password}
	r.proc = &process{name: name, path: bin, args: []string{conf}, runDir: runDir,
		logPath: filepath.Join(dir, "redis.log")}
	return r, nil
}

// URL is a go-redis connection URL for database 0, with the password if Redis requires one.
func (r *Redis) URL() string {
	if r.password != "" {
		return (&url.URL{Scheme: "redis", User: url.UserPassword("", r.password), Host: r.Addr(), Path: "/0"}).String()
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port)
}

// Addr is host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Start starts Redis (again) on its port, empty, and waits until it answers PING.
func (r *Redis) Start(ctx context.Context) error {
	if err := r.proc.start(); err != nil {
		return err
	}
	return r.proc.waitReady(func() error {
		c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: r.password, MaxRetries: -1, DialTimeout: time.Second})
		defer func() { _ = c.Close() }()
		return c.Ping(ctx).Err()
	})
}

// Stop shuts Redis down; being without persistence, it comes back empty.
func (r *Redis) Stop() error { return r.proc.stop() }
