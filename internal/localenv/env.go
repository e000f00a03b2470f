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
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Options choose the components to start.
type Options struct {
	// Kube starts etcd and kube-apiserver with the CRDs installed.
	Kube bool
	// KubeOptions refine Kube.
	KubeOptions KubeOptions
	// Postgres starts PostgreSQL.
	Postgres bool
	// PostgresOptions open PostgreSQL beyond loopback.
	PostgresOptions PostgresOptions
	// PostgresReplica starts a streaming replica of PostgreSQL (and so PostgreSQL too).
	PostgresReplica bool
	// PgBouncer starts PgBouncer in front of PostgreSQL (and so PostgreSQL too).
	PgBouncer bool
	// PgBouncerOptions size PgBouncer's pools.
	PgBouncerOptions PgBouncerOptions
	// Redis starts Redis.
	Redis bool
	// RedisArgs are redis-server command-line options for Redis (see StartRedisWithArgs).
	RedisArgs []string
	// RedisSentinel, when set, starts a master, a replica and three sentinels.
	RedisSentinel *RedisSentinelOptions
	// RedisCluster, when set, starts a three-master Redis Cluster.
	RedisCluster *RedisClusterOptions
}

// Env is a running set of components. A nil field was not asked for.
type Env struct {
	// RunDir holds every component's data, configuration and log.
	RunDir   string
	Kube     *Kube
	Postgres *Postgres
	// PostgresReplica is a hot standby streaming from Postgres.
	PostgresReplica *Postgres
	PgBouncer       *PgBouncer
	Redis           *Redis
	// RedisSentinel and RedisCluster are the highly available topologies.
	RedisSentinel *RedisSentinel
	RedisCluster  *RedisCluster
}

// Start sweeps away leftovers of dead runs, then starts what opts ask for. On error it stops
// whatever it had started.
func Start(ctx context.Context, opts Options) (env *Env, err error) {
	sweepStale()
	dir, err := newRunDir()
	if err != nil {
		return nil, err
	}
	env = &Env{RunDir: dir}
	defer func() {
		if err != nil {
			_ = env.Stop()
			env = nil
		}
	}()
	if opts.Postgres || opts.PgBouncer || opts.PostgresReplica {
		if env.Postgres, err = StartPostgresWith(ctx, dir, opts.PostgresOptions); err != nil {
			return env, err
		}
	}
	if opts.PostgresReplica {
		if env.PostgresReplica, err = StartPostgresReplica(ctx, dir, env.Postgres); err != nil {
			return env, err
		}
	}
	if opts.PgBouncer {
		if env.PgBouncer, err = StartPgBouncer(ctx, dir, env.Postgres, opts.PgBouncerOptions); err != nil {
			return env, err
		}
	}
	if opts.Redis {
		if env.Redis, err = StartRedisWithArgs(ctx, dir, opts.RedisArgs...); err != nil {
			return env, err
		}
	}
	if err := env.startRedisTopologies(ctx, opts); err != nil {
		return env, err
	}
	if opts.Kube {
		if env.Kube, err = StartKube(ctx, dir, opts.KubeOptions); err != nil {
			return env, err
		}
	}
	return env, nil
}

// startRedisTopologies starts the Sentinel and Cluster topologies opts ask for.
func (e *Env) startRedisTopologies(ctx context.Context, opts Options) (err error) {
	if opts.RedisSentinel != nil {
		if e.RedisSentinel, err = StartRedisSentinel(ctx, e.RunDir, *opts.RedisSentinel); err != nil {
			e.RedisSentinel = nil // it stopped what it had started
			return err
		}
	}
	if opts.RedisCluster != nil {
		if e.RedisCluster, err = StartRedisCluster(ctx, e.RunDir, *opts.RedisCluster); err != nil {
			e.RedisCluster = nil
			return err
		}
	}
	return nil
}

// Stop stops every component, then removes the run directory.
func (e *Env) Stop() error {
	var errs []error
	if e.Kube != nil {
		errs = append(errs, e.Kube.Stop())
	}
	if e.Redis != nil {
		errs = append(errs, e.Redis.Stop())
	}
	if e.RedisSentinel != nil {
		errs = append(errs, e.RedisSentinel.Stop())
	}
	if e.RedisCluster != nil {
		errs = append(errs, e.RedisCluster.Stop())
	}
	if e.PgBouncer != nil {
		errs = append(errs, e.PgBouncer.Stop())
	}
	if e.PostgresReplica != nil {
		errs = append(errs, e.PostgresReplica.Stop())
	}
	if e.Postgres != nil {
		errs = append(errs, e.Postgres.Stop())
	}
	// Nothing of ours may survive, whatever a component's own shutdown did.
	killMarked(e.RunDir)
	errs = append(errs, os.RemoveAll(e.RunDir))
	return errors.Join(errs...)
}

// ForTest starts an Env for a test and stops it when the test ends. When a server binary is
// missing, the test fails under CI=true and is skipped elsewhere; the message says how to
// install it either way.
func ForTest(t testing.TB, opts Options) *Env {
	t.Helper()
	env, err := Start(context.Background(), opts)
	if err != nil {
		Unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop local environment: %v", err)
		}
	})
	return env
}

// Service is a server of an Env that can be stopped and started again on the same port:
// *Postgres, *PgBouncer or *Redis.
type Service interface {
	Start(ctx context.Context) error
	Stop() error
}

// StopForTest stops s for an outage test and returns the function that starts it again,
// failing t if either fails. Should the test end before calling it, s is started again on
// cleanup, so that tests sharing s are not left without it.
func StopForTest(t testing.TB, s Service) (start func()) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatalf("stop %T: %v", s, err)
	}
	started := false
	t.Cleanup(func() {
		if !started {
			_ = s.Start(context.Background())
		}
	})
	return func() {
		t.Helper()
		started = true
		if err := s.Start(context.Background()); err != nil {
			t.Fatalf("start %T: %v", s, err)
		}
	}
}

// Unavailable ends a test that could not start its environment: a missing binary skips it on a
// developer's machine but fails it in CI, where a skipped test would have tested nothing.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if MissingOutsideCI(err) {
		t.Skipf("local environment unavailable (fails under CI=true): %v", err)
	}
	t.Fatalf("start local environment: %v", err)
}

// MissingOutsideCI reports whether err is a missing binary on a developer's machine, where a
// suite may skip; under CI=true nothing may skip.
func MissingOutsideCI(err error) bool {
	return errors.Is(err, ErrMissingBinary) && os.Getenv("CI") != "true"
}

// modulePath reads the module line of a go.mod.
func modulePath(gomod []byte) string {
	s := bufio.NewScanner(bytes.NewReader(gomod))
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// String lists the endpoints, for logs.
func (e *Env) String() string {
	var parts []string
	if e.Kube != nil {
		parts = append(parts, "kube-apiserver "+e.Kube.Config.Host)
	}
	if e.Postgres != nil {
		parts = append(parts, fmt.Sprintf("postgres :%d", e.Postgres.Port))
	}
	if e.PostgresReplica != nil {
		parts = append(parts, fmt.Sprintf("postgres replica :%d", e.PostgresReplica.Port))
	}
	if e.PgBouncer != nil {
		parts = append(parts, fmt.Sprintf("pgbouncer :%d", e.PgBouncer.Port))
	}
	if e.Redis != nil {
		parts = append(parts, fmt.Sprintf("redis :%d", e.Redis.Port))
	}
	if e.RedisSentinel != nil {
		parts = append(parts, fmt.Sprintf("redis master :%d, replica :%d, sentinel :%d…",
			e.RedisSentinel.Master.Port, e.RedisSentinel.Replica.Port, e.RedisSentinel.Sentinels[0].Port))
	}
	if e.RedisCluster != nil {
		parts = append(parts, "redis cluster "+strings.Join(e.RedisCluster.addrs(), ","))
	}
	return strings.Join(parts, ", ")
}
