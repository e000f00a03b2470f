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
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvVars are the KEY=value pairs of bin/dev/env (DESIGN §6), in a stable order.
func (p *Platform) EnvVars() [][2]string {
	vars := [][2]string{
		{"KUBECONFIG", p.Env.Kube.Kubeconfig},
		{"DATABASE_URL", p.DatabaseURL()},
		{"PGBOUNCER_URL", p.PgBouncerURL()},
		{"REDIS_URL", p.Env.Redis.URL()},
		{"REDIRECTOR_URL", p.RedirectorURL()},
		{"METRICS_URL", "http://" + p.RedirectorMetricsAddr + "/metrics"},
		{"MANAGER_METRICS_URL", "http://" + p.ManagerMetricsAddr + "/metrics"},
	}
	if p.api.key != "" {
		vars = append(vars, [2]string{"API_URL", p.APIURL()}, [2]string{"API_KEY", p.APIKey()})
	}
	if p.Manager != nil {
		vars = append(vars, [2]string{"MANAGER_PID", strconv.Itoa(p.Manager.Pid())})
	}
	if p.Redirector != nil {
		vars = append(vars, [2]string{"REDIRECTOR_PID", strconv.Itoa(p.Redirector.Pid())})
	}
	return vars
}

// WriteEnvFile writes EnvVars as shell-sourceable KEY='value' lines to path atomically: a
// reader sees either no file or the whole of it. The file holds the run's API key, so only its
// owner may read it (CreateTemp's 0600).
func (p *Platform) WriteEnvFile(path string) error {
	var b strings.Builder
	for _, kv := range p.EnvVars() {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], shellQuote(kv[1]))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".env-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(b.String()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// shellQuote single-quotes s for a POSIX shell, closing and reopening the quotes around a quote.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
