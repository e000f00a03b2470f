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
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// TestReniceReachesEveryServerProcess checks the niceness the kernel holds for Redis, PgBouncer,
// a PostgreSQL backend that existed before the renice, and one forked after it.
func TestReniceReachesEveryServerProcess(t *testing.T) {
	ctx := context.Background()
	env := ForTest(t, Options{PgBouncer: true, Redis: true})
	before := backendPid(ctx, t, env)

	if err := env.Renice(10); err != nil {
		t.Fatalf("renice: %v", err)
	}

	rdb := redis.NewClient(&redis.Options{Addr: env.Redis.Addr()})
	defer func() { _ = rdb.Close() }()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	redisPid := infoField(info, "process_id")
	for name, pid := range map[string]int{
		"redis-server (its process_id)": redisPid,
		"pgbouncer":                     env.PgBouncer.proc.cmd.Process.Pid,
		"postmaster":                    env.Postgres.proc.cmd.Process.Pid,
		"a backend started before":      before.pid,
		"a backend started after":       backendPid(ctx, t, env).pid,
	} {
		if got := niceOf(t, pid); got != 10 {
			t.Errorf("%s (pid %d): nice %d, want 10", name, pid, got)
		}
	}
	// Each backend leads a session of its own, so its autogroup's niceness is what weighs
	// against ours; where the kernel keeps autogroups, Renice must have set it.
	if group, err := os.ReadFile("/proc/" + strconv.Itoa(before.pid) + "/autogroup"); err == nil {
		if !strings.HasSuffix(strings.TrimSpace(string(group)), " nice 10") {
			t.Errorf("a backend started before: autogroup %q, want nice 10", strings.TrimSpace(string(group)))
		}
	} else {
		t.Logf("no autogroups here (%v): only process niceness checked", err)
	}
	_ = before.conn.Close(ctx)
}

type backend struct {
	conn *pgx.Conn
	pid  int
}

// backendPid opens a direct connection to PostgreSQL and returns it with its backend's pid.
func backendPid(ctx context.Context, t *testing.T, env *Env) backend {
	t.Helper()
	conn, err := pgx.Connect(ctx, env.Postgres.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return backend{conn: conn, pid: pid}
}

func infoField(info, name string) int {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// niceOf reads a process's niceness from /proc/<pid>/stat: the 19th field, the 17th after the
// command name in parentheses.
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	nice, err := strconv.Atoi(fields[16])
	if err != nil {
		t.Fatalf("pid %d stat %q: %v", pid, s, err)
	}
	return nice
}
