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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestEnvStartsEveryComponentAndLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	env, err := Start(ctx, Options{Kube: true, KubeOptions: KubeOptions{ControllerManager: true}, PgBouncer: true, Redis: true})
	if err != nil {
		Unavailable(t, err)
	}
	stop := stopLeavingNothing(t, env)
	if len(markedProcesses(env.RunDir)) == 0 {
		t.Fatal("no running process carries the run marker; the sweep could not find leftovers")
	}

	t.Run("kube-apiserver serves the ShortLink CRD", func(t *testing.T) {
		c, err := client.New(env.Kube.Config, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "localenv"}}
		if err := c.Create(ctx, ns); err != nil {
			t.Fatalf("create namespace: %v", err)
		}
		res, err := c.RESTMapper().RESTMapping(schema.GroupKind{Group: "links.shortlink.dev", Kind: "ShortLink"})
		if err != nil {
			t.Fatalf("ShortLink is not served: %v", err)
		}
		if res.Resource.Resource != "shortlinks" {
			t.Fatalf("resource = %q, want shortlinks", res.Resource.Resource)
		}
		if _, err := os.Stat(env.Kube.Kubeconfig); err != nil {
			t.Fatalf("kubeconfig not written: %v", err)
		}
	})
	t.Run("kubectl works with the kubeconfig", func(t *testing.T) {
		out, err := exec.Command(filepath.Join(env.Kube.AssetsDir, "kubectl"), "--kubeconfig", env.Kube.Kubeconfig, //nolint:gosec // our own binary
			"get", "namespace", "localenv", "-o", "name").CombinedOutput()
		if err != nil || string(out) != "namespace/localenv\n" {
			t.Fatalf("kubectl get namespace = %q, %v", out, err)
		}
	})
	t.Run("kube-controller-manager finalizes a deleted namespace", func(t *testing.T) {
		c, err := client.New(env.Kube.Config, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "localenv"}}
		if err := c.Delete(ctx, ns); err != nil {
			t.Fatal(err)
		}
		poll(t, "namespace to be finalized and removed", func() (bool, error) {
			err := c.Get(ctx, client.ObjectKeyFromObject(ns), ns)
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
	})
	t.Run("pgx in QueryExecModeExec through PgBouncer", func(t *testing.T) {
		assertPgBouncerAnswers(ctx, t, env)
	})
	t.Run("redis answers", func(t *testing.T) {
		assertRedisAnswers(ctx, t, env)
	})
	t.Run("postgres stops and starts on the same port", func(t *testing.T) {
		restartAndCheck(t, env.Postgres.Stop, func() error { return env.Postgres.Start(ctx) },
			func() error { return ping(ctx, env.Postgres.URL("postgres")) })
		assertPgBouncerAnswers(ctx, t, env)
	})
	t.Run("pgbouncer stops and starts on the same port", func(t *testing.T) {
		restartAndCheck(t, env.PgBouncer.Stop, func() error { return env.PgBouncer.Start(ctx) },
			func() error { return ping(ctx, env.PgBouncer.URL("postgres")) })
	})
	t.Run("redis stops and starts on the same port", func(t *testing.T) {
		restartAndCheck(t, env.Redis.Stop, func() error { return env.Redis.Start(ctx) },
			func() error { return redisPing(ctx, env) })
	})

	stop()
}

func assertPgBouncerAnswers(ctx context.Context, t *testing.T, env *Env) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(env.PgBouncer.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Many queries over few connections: with prepared statements this breaks in transaction mode.
	for i := range 50 {
		var got int
		if err := pool.QueryRow(ctx, "SELECT $1::int + 1", i).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query %d through pgbouncer = %d, %v", i, got, err)
		}
	}
	var mode string
	admin, err := pgx.Connect(ctx, env.PgBouncer.URL("pgbouncer"))
	if err != nil {
		t.Fatalf("connect to pgbouncer admin console: %v", err)
	}
	defer func() { _ = admin.Close(ctx) }()
	rows, err := admin.Query(ctx, "SHOW CONFIG", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] == "pool_mode" {
			mode, _ = vals[1].(string)
		}
	}
	if rows.Err() != nil || mode != "transaction" {
		t.Fatalf("pgbouncer pool_mode = %q (%v), want transaction", mode, rows.Err())
	}
}

func assertRedisAnswers(ctx context.Context, t *testing.T, env *Env) {
	t.Helper()
	opts, err := redis.ParseURL(env.Redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	if err := c.Set(ctx, "shortlink:localenv", "ok", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "shortlink:localenv").Result(); err != nil || got != "ok" {
		t.Fatalf("GET = %q, %v", got, err)
	}
}

func redisPing(ctx context.Context, env *Env) error {
	c := redis.NewClient(&redis.Options{Addr: env.Redis.Addr(), MaxRetries: -1})
	defer func() { _ = c.Close() }()
	return c.Ping(ctx).Err()
}

// restartAndCheck stops a server, sees it down, starts it again and sees it up; up dials the
// port the server had before, so passing means it came back on the same port.
func restartAndCheck(t *testing.T, stop, start, up func() error) {
	t.Helper()
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := up(); err == nil {
		t.Fatal("server still answers after Stop")
	}
	if err := start(); err != nil {
		t.Fatalf("start again: %v", err)
	}
	if err := up(); err != nil {
		t.Fatalf("server does not answer after Start: %v", err)
	}
}

func TestSweepStopsLeftoversOfADeadRun(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", runDirPrefix+"test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	owner := strconv.Itoa(dead.Process.Pid) + " 1"
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o600); err != nil {
		t.Fatal(err)
	}
	// An orphan that a killed run left behind: no parent-death signal reaches it.
	orphan := exec.Command("sleep", "300")
	orphan.Env = append(os.Environ(), markerEnv+"="+dir)
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = orphan.Process.Kill() })
	waited := make(chan struct{})
	go func() { _ = orphan.Wait(); close(waited) }()

	if n := sweepStale(); n < 1 {
		t.Fatalf("sweep killed %d processes, want at least 1", n)
	}
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatal("orphan still running after the sweep")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("stale run directory not removed: %v", err)
	}
}

func TestSweepLeavesLiveRunsAlone(t *testing.T) {
	dir, err := newRunDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sweepStale()
	if _, err := os.Stat(filepath.Join(dir, ownerFile)); err != nil {
		t.Fatalf("the sweep removed a live run's directory: %v", err)
	}
}

// poll retries check until it reports done, failing on an error or after a generous timeout.
func poll(t *testing.T, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		done, err := check()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRedisSentinelAndClusterStartAndLeaveNothingBehind(t *testing.T) {
	ctx := context.Background()
	env, err := Start(ctx, Options{RedisSentinel: &RedisSentinelOptions{Password: "s3cret/pw"}, RedisCluster: &RedisClusterOptions{}})
	if err != nil {
		Unavailable(t, err)
	}
	stop := stopLeavingNothing(t, env)
	t.Log(env)

	master, err := env.RedisSentinel.MasterAddr(ctx)
	if err != nil || master != env.RedisSentinel.Master.Addr() {
		t.Fatalf("sentinels name master %q, %v; want %s", master, err, env.RedisSentinel.Master.Addr())
	}
	rc := redis.NewClient(&redis.Options{Addr: env.RedisSentinel.Replica.Addr(), Password: "s3cret/pw"})
	role, err := rc.Do(ctx, "ROLE").Slice()
	_ = rc.Close()
	if err != nil || len(role) == 0 || role[0] != "slave" {
		t.Fatalf("replica's ROLE = %v, %v; want slave", role, err)
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{env.RedisCluster.Nodes[0].Addr()}})
	var masters atomic.Int32 // ForEachMaster calls each master at once
	err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		masters.Add(1)
		return nil
	})
	_ = cc.Close()
	if err != nil || masters.Load() != 3 {
		t.Fatalf("cluster has %d masters, %v; want 3", masters.Load(), err)
	}

	stop()
}

// The replica is a hot standby that replays what the primary writes, survives SIGKILL and a
// restart, and Env.Stop leaves none of its processes (nor pg_basebackup's) behind.
func TestPostgresReplicaStreamsAndLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	env, err := Start(ctx, Options{PostgresReplica: true})
	if err != nil {
		Unavailable(t, err)
	}
	stop := stopLeavingNothing(t, env)
	t.Log(env)
	execSQL := func(url, sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	replicated := func(want int) func() (bool, error) {
		return func() (bool, error) {
			conn, err := pgx.Connect(ctx, env.PostgresReplica.URL("postgres"))
			if err != nil {
				return false, err
			}
			defer func() { _ = conn.Close(ctx) }()
			var standby bool
			var n int
			err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), (SELECT count(*) FROM streamed)`).Scan(&standby, &n)
			if err != nil {
				return false, nil // the table has not reached the replica yet
			}
			if !standby {
				t.Fatal("the replica is not in recovery: it is not a standby")
			}
			return n == want, nil
		}
	}
	execSQL(env.Postgres.URL("postgres"), `CREATE TABLE streamed (id int); INSERT INTO streamed VALUES (1)`)
	poll(t, "the primary's row on the replica", replicated(1))

	if err := env.PostgresReplica.Kill(); err != nil {
		t.Fatal(err)
	}
	execSQL(env.Postgres.URL("postgres"), `INSERT INTO streamed VALUES (2)`)
	if err := env.PostgresReplica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll(t, "the row written while the replica was down, after its restart", replicated(2))

	stop()
}

// stopLeavingNothing stops env when the test ends early, and returns the test's own stop: it
// stops env and fails unless every process of the run and its run directory are gone.
func stopLeavingNothing(t *testing.T, env *Env) (stop func()) {
	t.Helper()
	runDir, stopped := env.RunDir, false
	t.Cleanup(func() {
		if !stopped {
			_ = env.Stop()
		}
	})
	return func() {
		t.Helper()
		stopped = true
		if err := env.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if left := markedProcesses(runDir); len(left) > 0 {
			t.Fatalf("processes left behind after Stop: %v", left)
		}
		if _, err := os.Stat(runDir); !os.IsNotExist(err) {
			t.Fatalf("run directory %s not removed: %v", runDir, err)
		}
	}
}
