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

// Package devenv runs the whole Shortlink platform on this machine — etcd, kube-apiserver,
// kube-controller-manager, PostgreSQL, PgBouncer, Redis, the manager and the redirector with
// the create API on — for `make dev` and the whole-platform tests. It holds process wiring
// only, no product logic.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// Options shape a platform.
type Options struct {
	// Root is the repository root (config/samples, the packages to build).
	Root string
	// BinDir holds the manager and redirector binaries (see Build).
	BinDir string
	// LogDir, when set, receives the manager's and redirector's logs; otherwise they stay in
	// the run directory and go with it.
	LogDir string
	// DefaultDomain is the host serving links without spec.domain; default "localhost".
	DefaultDomain string
	// VisitsSyncInterval is how often the manager rolls visits up into status; default 5s.
	VisitsSyncInterval string
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
}

// Platform is a running platform. Its addresses stay the same across restarts of a process.
type Platform struct {
	Env        *localenv.Env
	Manager    *localenv.Process
	Redirector *localenv.Process

	// RedirectorAddr serves redirects, RedirectorMetricsAddr /metrics (host:port on loopback).
	RedirectorAddr, RedirectorMetricsAddr string
	// ManagerMetricsAddr serves the manager's /metrics, ManagerProbeAddr its /readyz.
	ManagerMetricsAddr, ManagerProbeAddr string

	opts Options
	api  apiFiles
}

// Start starts every component and waits until the manager and the redirector are ready. On
// error it stops whatever it had started.
func Start(ctx context.Context, opts Options) (p *Platform, err error) {
	if opts.DefaultDomain == "" {
		opts.DefaultDomain = "localhost"
	}
	if opts.VisitsSyncInterval == "" {
		opts.VisitsSyncInterval = "5s"
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	p = &Platform{opts: opts}
	p.step("Starting etcd, kube-apiserver, kube-controller-manager, PostgreSQL, PgBouncer and Redis")
	p.Env, err = localenv.Start(ctx, localenv.Options{
		Kube: true, KubeOptions: localenv.KubeOptions{ControllerManager: true}, PgBouncer: true, Redis: true,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = p.Stop()
			p = nil
		}
	}()
	if err := p.pickAddresses(); err != nil {
		return p, err
	}
	if err := p.linkLogs(); err != nil {
		return p, err
	}
	if err := p.writeAPIFiles(); err != nil {
		return p, err
	}
	p.step("Starting the manager")
	if err := p.StartManager(ctx); err != nil {
		return p, err
	}
	p.step("Starting the redirector")
	return p, p.StartRedirector(ctx)
}

// Stop stops the redirector first (so it flushes its visits), then the manager, then the
// local environment, and removes the run directory.
func (p *Platform) Stop() error {
	var errs []error
	if p.Redirector != nil {
		errs = append(errs, p.StopRedirector())
	}
	if p.Manager != nil {
		errs = append(errs, p.StopManager())
	}
	if p.Env != nil {
		errs = append(errs, p.Env.Stop())
	}
	return errors.Join(errs...)
}

// DatabaseURL is the direct PostgreSQL URL; PgBouncerURL goes through PgBouncer.
func (p *Platform) DatabaseURL() string { return p.Env.Postgres.URL("postgres") }

// PgBouncerURL is the PostgreSQL URL through PgBouncer, as the redirector uses it.
func (p *Platform) PgBouncerURL() string { return p.Env.PgBouncer.URL("postgres") }

// RedirectorURL is the base URL of redirects on the default domain.
func (p *Platform) RedirectorURL() string {
	_, port, _ := net.SplitHostPort(p.RedirectorAddr)
	return "http://" + p.opts.DefaultDomain + ":" + port
}

// DefaultDomain is the host serving links without spec.domain.
func (p *Platform) DefaultDomain() string { return p.opts.DefaultDomain }

func (p *Platform) pickAddresses() error {
	for _, a := range []*string{&p.RedirectorAddr, &p.RedirectorMetricsAddr, &p.ManagerMetricsAddr, &p.ManagerProbeAddr} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("pick a free port: %w", err)
		}
		*a = l.Addr().String()
		_ = l.Close()
	}
	return nil
}

// linkLogs makes the run directory's logs folder a link to LogDir, so the processes write
// there directly and their logs outlive the run directory (RemoveAll removes only the link).
func (p *Platform) linkLogs() error {
	if p.opts.LogDir == "" {
		return nil
	}
	if err := os.MkdirAll(p.opts.LogDir, 0o750); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	for _, name := range []string{"manager.log", "redirector.log"} {
		if err := os.Remove(filepath.Join(p.opts.LogDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove old log: %w", err)
		}
	}
	dir, err := filepath.Abs(p.opts.LogDir)
	if err != nil {
		return err
	}
	return os.Symlink(dir, filepath.Join(p.Env.RunDir, "logs"))
}

func (p *Platform) step(msg string) { _, _ = fmt.Fprintln(p.opts.Progress, msg) }
