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

// Command dev runs the whole Shortlink platform on this machine for `make dev`: the Kubernetes
// control plane, PostgreSQL, PgBouncer, Redis, the manager and the redirector (with the create
// API and a development key made for the run), with config/samples applied. It writes bin/dev/env once everything answers and stays in the
// foreground; Ctrl-C or SIGTERM stops every process it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/shortlink-dev/shortlink/internal/devenv"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

func main() {
	// envtest logs through controller-runtime's logger. Set it before anything else: unset, the
	// first line logged after 30 seconds (the control plane takes longer to start) prints a
	// "log.SetLogger(...) was never called" warning and a goroutine dump. Only warnings and
	// errors are worth a line among make dev's progress.
	logf.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// run starts the platform, waits for ctx to end, and stops it.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	build := fs.Bool("build", true, "build the manager and the redirector into bin/dev first")
	domain := fs.String("default-domain", "localhost", "host serving the samples (and links without spec.domain)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := localenv.RepoRoot()
	if err != nil {
		return err
	}
	binDir := filepath.Join(root, "bin", "dev")
	envPath := filepath.Join(binDir, "env")
	if err := removeEnvFile(envPath); err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", binDir, err)
	}
	began := time.Now()
	if *build {
		say(stdout, "Building the manager and the redirector into bin/dev")
		if err := devenv.Build(ctx, root, binDir); err != nil {
			return err
		}
	}
	p, err := devenv.Start(ctx, devenv.Options{
		Root: root, BinDir: binDir, LogDir: filepath.Join(binDir, "logs"),
		DefaultDomain: *domain, VisitsSyncInterval: "5s", Progress: stdout,
	})
	if err != nil {
		return err
	}
	err = serve(ctx, p, envPath, began, stdout)
	say(stdout, "Stopping the redirector, the manager and the local environment")
	return errors.Join(err, p.Stop(), removeEnvFile(envPath))
}

// serve applies the samples, announces the platform and waits for ctx to end or one of our
// processes to die.
func serve(ctx context.Context, p *devenv.Platform, envPath string, began time.Time, stdout io.Writer) error {
	if err := p.ApplySamples(ctx); err != nil {
		return err
	}
	if err := p.WriteEnvFile(envPath); err != nil {
		return err
	}
	printTryThis(stdout, p, time.Since(began))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for name, proc := range map[string]interface{ Exited() bool }{"manager": p.Manager, "redirector": p.Redirector} {
			if proc.Exited() {
				return fmt.Errorf("the %s exited; see bin/dev/logs/%s.log", name, name)
			}
		}
	}
}

func removeEnvFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

func printTryThis(w io.Writer, p *devenv.Platform, ready time.Duration) {
	kubectl := filepath.Join(p.Env.Kube.AssetsDir, "kubectl")
	say(w, fmt.Sprintf(`
Shortlink is ready (%s). Try this in another shell:

  set -a; . bin/dev/env; set +a
  alias kubectl=%s
  curl -i $REDIRECTOR_URL/docs        # %s, Host: %s
  kubectl get sl -o wide              # curl's visit counts under BOT VISITS: it is no browser
  curl -s $METRICS_URL | grep ^shortlink_redirect_requests_total
  curl -s $MANAGER_METRICS_URL | grep ^shortlink_links

  # The create API (%s), with this run's development key:
  curl -s -H "Authorization: Bearer $API_KEY" -d '{"target":"https://example.com/from-the-api"}' $API_URL/links
  curl -i $REDIRECTOR_URL/<the code it answered>

Logs: bin/dev/logs/manager.log, bin/dev/logs/redirector.log. Ctrl-C stops everything.
`, ready.Round(100*time.Millisecond), kubectl, p.RedirectorURL()+"/docs", p.DefaultDomain(), p.APIURL()))
}

// say writes a line of progress; a closed terminal is no reason to stop.
func say(w io.Writer, msg string) { _, _ = fmt.Fprintln(w, msg) }
