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

package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"sigs.k8s.io/yaml"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// The image as `make images` builds it (PGBOUNCER_TEST_IMG, PGBOUNCER_USER): the chart runs
// /usr/bin/pgbouncer as pgbouncer.podSecurityContext's 998:996.
const (
	pgbouncerPath = "/usr/bin/pgbouncer"
	pgbouncerUser = "998:996"
	pgbouncerRef  = "shortlink.dev/test/pgbouncer:test"
)

// TestPgBouncerImage builds the PgBouncer test image, unpacks its layers and runs the program in
// them with chroot: `--version` proves the libraries and the loader are complete, and a query
// through it — configured with the chart's rendered pgbouncer.ini, as the non-root user, with
// scram-sha-256 from the client and to PostgreSQL — proves the chart's configuration works with
// the PgBouncer the image holds.
func TestPgBouncerImage(t *testing.T) {
	if os.Geteuid() != 0 {
		missing(t, "chroot needs root: run this test as root (the CI runner is)")
	}
	bin := requireFile(t, "PGBOUNCER", "/usr/sbin/pgbouncer", "install Debian's pgbouncer (hack/install-deps.sh)")
	helm := requireFile(t, "HELM", filepath.Join(repoRoot(t), "bin", "helm"), "run `make helm`, or set HELM")
	chroot := requireFile(t, "CHROOT", "/usr/sbin/chroot", "install coreutils")

	img := buildPgBouncerImage(t, bin)
	checkPgBouncerConfig(t, img)
	root := unpack(t, img)

	t.Run("version", func(t *testing.T) {
		want, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", bin, err, want)
		}
		got, err := exec.Command(chroot, root, pgbouncerPath, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("chroot %s %s --version: %v\n%s", root, pgbouncerPath, err, got)
		}
		if string(got) != string(want) {
			t.Errorf("in the image: %q, want %q", got, want)
		}
	})
	t.Run("chart configuration", func(t *testing.T) {
		runChartConfiguration(t, root, chroot, chartPgBouncerINI(t, helm))
	})
}

func buildPgBouncerImage(t *testing.T, bin string) v1.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pgbouncer.tar")
	args := []string{"-binary", bin, "-path", pgbouncerPath, "-shared-libraries", "-user", pgbouncerUser,
		"-ref", pgbouncerRef, "-out", out, "-port", "5432/tcp"}
	if err := run(args, io.Discard); err != nil {
		t.Fatalf("build the image: %v", err)
	}
	tag, err := name.NewTag(pgbouncerRef)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("open %s as %s: %v", out, pgbouncerRef, err)
	}
	return img
}

// checkPgBouncerConfig checks what a node needs to import and run the image: containerd's
// `ctr images import` drops images without a platform.
func checkPgBouncerConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if cf.Config.User != pgbouncerUser {
		t.Errorf("user %q, want %s", cf.Config.User, pgbouncerUser)
	}
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != pgbouncerPath {
		t.Errorf("entrypoint %q, want [%s]", cf.Config.Entrypoint, pgbouncerPath)
	}
}

// unpack writes the image's flattened filesystem into a new directory, owners and modes kept.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	// The image's / must be searchable by the non-root user once chrooted.
	if err := os.Mkdir(root, 0o755); err != nil { //nolint:gosec // see above
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return root
		}
		if err != nil {
			t.Fatalf("read the image's filesystem: %v", err)
		}
		if err := unpackEntry(root, h, tr); err != nil {
			t.Fatal(err)
		}
	}
}

func unpackEntry(root string, h *tar.Header, r io.Reader) error {
	rel := path.Clean("/" + h.Name)
	dst := filepath.Join(root, rel)
	mode := h.FileInfo().Mode() & (os.ModePerm | os.ModeSticky)
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(dst, 0o755); err != nil { //nolint:gosec // chmod below sets the image's mode
			return fmt.Errorf("unpack %s: %w", rel, err)
		}
	case tar.TypeReg:
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("unpack %s: %w", rel, err)
		}
		if err := os.WriteFile(dst, data, mode); err != nil {
			return fmt.Errorf("unpack %s: %w", rel, err)
		}
	default:
		return fmt.Errorf("unpack %s: unexpected entry type %q", rel, h.Typeflag)
	}
	if err := os.Chmod(dst, mode); err != nil {
		return fmt.Errorf("unpack %s: %w", rel, err)
	}
	return os.Lchown(dst, h.Uid, h.Gid)
}

// chartPgBouncerINI renders the chart's PgBouncer ConfigMap with its default values.
func chartPgBouncerINI(t *testing.T, helm string) string {
	t.Helper()
	out, err := exec.Command(helm, "template", "shortlink", filepath.Join(repoRoot(t), "charts", "shortlink"),
		"--kube-version", "1.30.0", "--show-only", "templates/pgbouncer/configmap.yaml").Output()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		t.Fatalf("helm template: %v\n%s", err, exitErr.Stderr)
	}
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatalf("rendered ConfigMap: %v\n%s", err, out)
	}
	ini := cm.Data["pgbouncer.ini"]
	if ini == "" {
		t.Fatalf("the rendered ConfigMap has no pgbouncer.ini:\n%s", out)
	}
	return ini
}

// runChartConfiguration starts the image's PgBouncer with the chart's pgbouncer.ini and the
// backends Secret's two files (in the shape templates/databases/secret.yaml writes them), and
// queries PostgreSQL through it with scram-sha-256 on both sides.
func runChartConfiguration(t *testing.T, root, chroot, ini string) {
	env := localenv.ForTest(t, localenv.Options{Postgres: true})
	const password = "a-test-password-7f3a"
	requireScram(t, env.Postgres, password)

	port := freePort(t)
	files := map[string]string{
		"etc/pgbouncer/config/pgbouncer.ini": loopback(t, ini, port),
		"etc/pgbouncer/secret/databases.ini": fmt.Sprintf("[databases]\nshortlink = host=shortlink-postgresql port=%d dbname=shortlink\n",
			env.Postgres.Port),
		"etc/pgbouncer/secret/userlist.txt": fmt.Sprintf("%q %q\n", "shortlink", password),
		// What kubelet mounts into every pod. The PostgreSQL host is found by name, here in
		// /etc/hosts: the cluster's DNS is not here, but the lookup goes through the same c-ares.
		"etc/hosts":       "127.0.0.1 localhost shortlink-postgresql\n",
		"etc/resolv.conf": "search shortlink.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n",
	}
	for p, data := range files {
		if err := os.MkdirAll(filepath.Join(root, path.Dir(p)), 0o755); err != nil { //nolint:gosec // searched by the non-root user
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil { //nolint:gosec // read by the non-root user
			t.Fatal(err)
		}
	}
	proc, err := env.StartProcess("pgbouncer-image", chroot,
		[]string{"--userspec=" + pgbouncerUser, root, pgbouncerPath, "/etc/pgbouncer/config/pgbouncer.ini"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Stop() })

	url := fmt.Sprintf("postgres://shortlink:%s@127.0.0.1:%d/shortlink?sslmode=disable", password, port)
	var user, db string
	var serverPort int
	waitFor(t, proc, func(ctx context.Context) error {
		return queryRow(ctx, url, "SELECT current_user, current_database(), inet_server_port()", &user, &db, &serverPort)
	})
	if user != "shortlink" || db != "shortlink" || serverPort != env.Postgres.Port {
		t.Errorf("through PgBouncer: user %s, database %s, server port %d; want shortlink, shortlink, %d",
			user, db, serverPort, env.Postgres.Port)
	}
	if uid := processUID(t, proc.Pid()); uid != strings.Split(pgbouncerUser, ":")[0] {
		t.Errorf("PgBouncer runs as uid %s, want %s", uid, pgbouncerUser)
	}
	// PgBouncer 1.18 answers a failed SCRAM exchange with 08P01 "SASL authentication failed".
	wrong := strings.Replace(url, password, "not-"+password, 1)
	err = queryRow(context.Background(), wrong, "SELECT 1", new(int))
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, "authentication failed") {
		t.Errorf("a wrong password through PgBouncer: %v, want an authentication failure", err)
	}
}

// requireScram makes PostgreSQL ask the shortlink role for its password by scram-sha-256 (the
// local environment trusts everyone) and waits until it does.
func requireScram(t *testing.T, pg *localenv.Postgres, password string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, sql := range []string{
		"SET password_encryption = 'scram-sha-256'",
		"CREATE ROLE shortlink LOGIN PASSWORD '" + password + "'",
		"CREATE DATABASE shortlink OWNER shortlink",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	hba := filepath.Join(pg.Dir, "data", "pg_hba.conf")
	old, err := os.ReadFile(hba) //nolint:gosec // the local environment's own file
	if err != nil {
		t.Fatal(err)
	}
	rule := []byte("host all shortlink 127.0.0.1/32 scram-sha-256\n")      // the first matching line wins
	if err := os.WriteFile(hba, append(rule, old...), 0o600); err != nil { //nolint:gosec // the local environment's own file
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://shortlink:wrong@127.0.0.1:%d/shortlink?sslmode=disable", pg.Port)
	deadline := time.Now().Add(30 * time.Second)
	for err := queryRow(ctx, url, "SELECT 1", new(int)); ; err = queryRow(ctx, url, "SELECT 1", new(int)) {
		if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "28P01" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL still lets shortlink in without its password: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loopback moves the chart's listener (every address, port 5432) to a free loopback port, the
// only change made to the chart's configuration.
func loopback(t *testing.T, ini string, port int) string {
	t.Helper()
	for old, repl := range map[string]string{
		"listen_addr = *":    "listen_addr = 127.0.0.1",
		"listen_port = 5432": fmt.Sprintf("listen_port = %d", port),
	} {
		if !strings.Contains(ini, "\n"+old+"\n") {
			t.Fatalf("the chart's pgbouncer.ini has no line %q:\n%s", old, ini)
		}
		ini = strings.Replace(ini, "\n"+old+"\n", "\n"+repl+"\n", 1)
	}
	return ini
}

// queryRow connects with the simple protocol (PgBouncer pools transactions) and scans one row.
func queryRow(ctx context.Context, url, sql string, dest ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
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
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// waitFor polls ready until it succeeds, failing when the process exits or a minute passes.
func waitFor(t *testing.T, proc *localenv.Process, ready func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := ready(context.Background())
		if err == nil {
			return
		}
		if proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("no query through PgBouncer: %v\n%s", err, proc.LogTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// processUID reads the real uid of a running process.
func processUID(t *testing.T, pid int) string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// requireFile returns $env, or def, when the file exists.
func requireFile(t *testing.T, env, def, install string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = def
	}
	if _, err := os.Stat(p); err != nil { //nolint:gosec // a tool path the caller chose
		missing(t, fmt.Sprintf("%s not found (%v): %s", p, err, install))
	}
	return p
}

// missing ends a test whose prerequisite is absent: skipped on a developer's machine, failed
// under CI=true, where a skipped test would have tested nothing.
func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (fails under CI=true)")
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
