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

// Command localnode runs the single-node cluster of internal/localnode until it is told to stop
// (SIGINT, SIGTERM), then stops it and leaves nothing behind. Once the node is Ready it writes
// an env file (KUBECONFIG, KUBECTL, NODE_IP, LOCALNODE_PID) for a person or a test to source.
//
//	localnode -kube-assets DIR -cluster-assets DIR -logs DIR -env FILE
//	localnode -sweep      (only remove what a killed node left behind)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localnode:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("localnode", flag.ContinueOnError)
	var opts localnode.Options
	var envFile string
	var sweepOnly bool
	fs.StringVar(&opts.KubeAssets, "kube-assets", os.Getenv("KUBEBUILDER_ASSETS"), "etcd, kube-apiserver, kube-controller-manager, kubectl (make envtest-assets)")
	fs.StringVar(&opts.ClusterAssets, "cluster-assets", os.Getenv("CLUSTER_ASSETS"), "kubelet, kube-proxy, … (make cluster-assets)")
	fs.StringVar(&opts.LogDir, "logs", "bin/cluster/logs", "one log per component")
	fs.StringVar(&envFile, "env", "bin/cluster/node.env", "written once the node is Ready")
	fs.DurationVar(&opts.LockWait, "lock-wait", time.Minute, "how long to wait for another node to stop")
	fs.BoolVar(&sweepOnly, "sweep", false, "only remove what a killed node left behind, then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if sweepOnly {
		return localnode.Sweep(ctx, opts.LockWait)
	}
	node, err := localnode.Start(ctx, opts)
	if err != nil {
		return err
	}
	err = writeEnv(envFile, node)
	if err == nil {
		fmt.Printf("localnode: ready; set -a; . %s; set +a  (Ctrl-C stops it)\n", envFile)
		<-ctx.Done()
	}
	_ = os.Remove(envFile)
	return errors.Join(err, node.Stop())
}

func writeEnv(path string, node *localnode.Node) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	data := fmt.Sprintf("KUBECONFIG='%s'\nKUBECTL='%s'\nNODE_IP='%s'\nLOCALNODE_PID='%d'\n",
		node.Kubeconfig, node.Kubectl, localnode.NodeIP, os.Getpid())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
