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

// Package cluster tests the real single-node cluster of internal/localnode: workloads, DNS and
// services on it; that nothing it does can leave the machine; and that it leaves nothing behind.
// The tests share one node (one runs per machine); the last test stops it and checks the machine
// against a snapshot taken before it started. `make test-cluster` runs them with -p 1.
package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

var shared struct {
	once   sync.Once
	node   *localnode.Node
	err    error
	before machineState
	logs   string
}

func options() localnode.Options {
	return localnode.Options{
		KubeAssets:    os.Getenv("KUBEBUILDER_ASSETS"),
		ClusterAssets: os.Getenv("CLUSTER_ASSETS"),
		LockWait:      10 * time.Minute, // another package's node, or a person's `make node`
	}
}

func TestMain(m *testing.M) {
	if missing := localnode.Requirements(options()); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "test/cluster: the node cannot start here, missing %v\n", missing)
		if os.Getenv("CI") == "true" {
			// CI must not pass having tested nothing.
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "test/cluster: skipped (set KUBEBUILDER_ASSETS and CLUSTER_ASSETS, or run make test-cluster)")
		os.Exit(0)
	}
	code := m.Run()
	if shared.node != nil {
		if err := shared.node.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "test/cluster: stop node:", err)
			code = 1
		}
	}
	if code == 0 && shared.logs != "" {
		_ = os.RemoveAll(shared.logs) // kept only for a person reading a failure
	}
	os.Exit(code)
}

// node is the shared node, started by the first test that needs it after a snapshot of the
// machine.
func node(t *testing.T) *localnode.Node {
	t.Helper()
	shared.once.Do(func() {
		shared.before, shared.err = snapshot()
		if shared.err != nil {
			return
		}
		logs, err := os.MkdirTemp("", "shortlink-node-logs-")
		if err != nil {
			shared.err = err
			return
		}
		shared.logs = logs
		opts := options()
		opts.LogDir = logs
		started := time.Now()
		shared.node, shared.err = localnode.Start(context.Background(), opts)
		t.Logf("node started and Ready in %s (logs in %s)", time.Since(started).Round(time.Second), logs)
	})
	if shared.err != nil {
		t.Fatalf("start node: %v", shared.err)
	}
	if shared.node == nil {
		t.Fatal("the shared node was stopped by an earlier test")
	}
	return shared.node
}

func clientset(t *testing.T, n *localnode.Node) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(n.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// logsDir keeps each test's own logs apart.
func logsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}
