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

package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvFileSourcesInAShell writes bin/dev/env's format and reads it back through sh, as a
// person does with `set -a; . bin/dev/env`: every key of DESIGN §6 is there and KUBECONFIG works.
func TestEnvFileSourcesInAShell(t *testing.T) {
	p := stack(t)
	path := filepath.Join(t.TempDir(), "env")
	if err := p.WriteEnvFile(path); err != nil {
		t.Fatal(err)
	}
	keys := []string{"KUBECONFIG", "DATABASE_URL", "PGBOUNCER_URL", "REDIS_URL", "REDIRECTOR_URL",
		"METRICS_URL", "MANAGER_METRICS_URL", "MANAGER_PID", "REDIRECTOR_PID", "API_URL", "API_KEY"}
	script := `set -a; . "$1"; set +a; for k in ` + strings.Join(keys, " ") +
		`; do eval "v=\${$k}"; [ -n "$v" ] || { echo "missing $k"; exit 1; }; done; "$2" get shortlinks -A -o name`
	out, err := exec.Command("sh", "-c", script, "sh", path, filepath.Join(p.Env.Kube.AssetsDir, "kubectl")).CombinedOutput() //nolint:gosec // our script
	if err != nil {
		t.Fatalf("source the env file: %v\n%s", err, out)
	}
}
