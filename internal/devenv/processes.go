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

package devenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// readyTimeout bounds the wait for a process's readiness endpoint on a busy machine.
const readyTimeout = 2 * time.Minute

// Build compiles the manager and the redirector into binDir.
func Build(ctx context.Context, root, binDir string) error {
	for _, name := range []string{"manager", "redirector"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, name), "./cmd/"+name) //nolint:gosec // our own packages
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
	}
	return nil
}

// StartManager starts the manager on a direct PostgreSQL connection and waits for /readyz.
func (p *Platform) StartManager(ctx context.Context) error {
	env := []string{
		"KUBECONFIG=" + p.Env.Kube.Kubeconfig,
		"DATABASE_URL=" + p.DatabaseURL(),
		"REDIS_URL=" + p.Env.Redis.URL(),
		"DEFAULT_DOMAIN=" + p.opts.DefaultDomain,
		"BASE_URL=" + p.RedirectorURL(),
		"METRICS_BIND_ADDRESS=" + p.ManagerMetricsAddr,
		"HEALTH_PROBE_BIND_ADDRESS=" + p.ManagerProbeAddr,
		"VISITS_SYNC_INTERVAL=" + p.opts.VisitsSyncInterval,
		"LEADER_ELECT=false",
	}
	proc, err := p.Env.StartProcess("manager", filepath.Join(p.opts.BinDir, "manager"), nil, env)
	if err != nil {
		return err
	}
	p.Manager = proc
	return waitHTTP(ctx, proc, "http://"+p.ManagerProbeAddr+"/readyz")
}

// StopManager stops the manager (SIGTERM, then SIGKILL if it hangs).
func (p *Platform) StopManager() error {
	if p.Manager == nil {
		return nil
	}
	err := p.Manager.Stop()
	p.Manager = nil
	return err
}

// StartRedirector starts the redirector through PgBouncer, with the create API on, and waits
// for /_/readyz.
func (p *Platform) StartRedirector(ctx context.Context) error {
	proc, err := p.startRedirector(ctx, "redirector", p.RedirectorAddr, p.RedirectorMetricsAddr)
	p.Redirector = proc
	return err
}

// StartExtraRedirector starts one more redirector replica on addr (and metricsAddr), as an
// HPA would: benchmarks check that every replica learns of a change.
func (p *Platform) StartExtraRedirector(ctx context.Context, name, addr, metricsAddr string) (*localenv.Process, error) {
	return p.startRedirector(ctx, name, addr, metricsAddr)
}

func (p *Platform) startRedirector(ctx context.Context, name, addr, metricsAddr string) (*localenv.Process, error) {
	env := append([]string{
		"LISTEN_ADDRESS=" + addr,
		"METRICS_ADDRESS=" + metricsAddr,
		"DATABASE_URL=" + p.PgBouncerURL(),
		"REDIS_URL=" + p.Env.Redis.URL(),
		"DEFAULT_DOMAIN=" + p.opts.DefaultDomain,
		// The short URLs the API answers are this redirector's, as the manager's status shows.
		"BASE_URL=" + p.RedirectorURL(),
		"SHUTDOWN_TIMEOUT=20s",
	}, p.apiEnv()...)
	proc, err := p.Env.StartProcess(name, filepath.Join(p.opts.BinDir, "redirector"), nil, env)
	if err != nil {
		return nil, err
	}
	return proc, waitHTTP(ctx, proc, "http://"+addr+"/_/readyz")
}

// StopRedirector stops the redirector gracefully: SIGTERM makes it flush its counted visits.
func (p *Platform) StopRedirector() error {
	if p.Redirector == nil {
		return nil
	}
	err := p.Redirector.Stop()
	p.Redirector = nil
	return err
}

// waitHTTP polls url until it answers 200, the process exits, or readyTimeout passes.
func waitHTTP(ctx context.Context, proc *localenv.Process, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return Poll(ctx, readyTimeout, url, func() (bool, error) {
		if proc.Exited() {
			return false, fmt.Errorf("exited before it was ready:\n%s", proc.LogTail())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// Poll calls check every 200ms until it reports done, fails, or timeout passes.
func Poll(ctx context.Context, timeout time.Duration, what string, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := check()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s", what, timeout)
		case <-tick.C:
		}
	}
}
