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

package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// TestLeaveNothingBehind runs last (file order): it stops the shared node and compares the
// machine with the snapshot from before its start; then it starts a node in a process of its
// own, kills that process outright, and checks that the sweep the next start runs first leaves
// the machine as it was.
func TestLeaveNothingBehind(t *testing.T) {
	n := node(t)
	deployWorkloads(t, n) // sandboxes, mounts, veths and kube-proxy rules to clean up
	stopping := time.Now()
	err := n.Stop()
	shared.node = nil
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Logf("stop to clean in %s", time.Since(stopping).Round(100*time.Millisecond))
	expectClean(t, "after a stop")

	bin := filepath.Join(t.TempDir(), "localnode")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/localnode").CombinedOutput(); err != nil {
		t.Fatalf("build cmd/localnode: %v\n%s", err, out)
	}
	env := localenv.ForTest(t, localenv.Options{})
	envFile := filepath.Join(t.TempDir(), "node.env")
	p, err := env.StartProcess("localnode", bin, []string{
		"-kube-assets", os.Getenv("KUBEBUILDER_ASSETS"), "-cluster-assets", os.Getenv("CLUSTER_ASSETS"),
		"-logs", logsDir(t), "-env", envFile,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 6*time.Minute, func() error {
		if p.Exited() {
			t.Fatalf("localnode exited before it was ready:\n%s", p.LogTail())
		}
		_, err := os.Stat(envFile)
		return err
	})
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	// The kill must have left work for the sweep, or this test proves nothing.
	if left, err := snapshot(); err != nil {
		t.Fatal(err)
	} else if len(left.Procs) == 0 || !contains(left.Links, localnode.Bridge) {
		t.Fatalf("a killed node left no processes or no bridge; nothing to sweep: %q", left.Procs)
	}
	sweeping := time.Now()
	if err := localnode.Sweep(context.Background(), time.Minute); err != nil {
		t.Fatalf("sweep after a kill: %v", err)
	}
	t.Logf("sweep after a kill in %s", time.Since(sweeping).Round(100*time.Millisecond))
	expectClean(t, "after a kill and the sweep")
}

func expectClean(t *testing.T, when string) {
	t.Helper()
	after, err := snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(shared.before, after); len(d) > 0 {
		t.Errorf("%s the machine differs from before the node:\n%s", when, strings.Join(d, "\n"))
	}
}
