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
// With -platform (`make cluster`) it also installs Shortlink's chart on the node with its
// backends beside it (internal/localcluster), and writes the env file once every Pod is Ready.
//
//	localnode -kube-assets DIR -cluster-assets DIR -logs DIR -env FILE
//	localnode -platform -images DIR -helm FILE -env FILE
//	localnode -sweep      (only remove what a killed node left behind)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localcluster"
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
	var sweepOnly, platform bool
	var chart localcluster.Options
	fs.StringVar(&opts.KubeAssets, "kube-assets", os.Getenv("KUBEBUILDER_ASSETS"), "etcd, kube-apiserver, kube-controller-manager, kubectl (make envtest-assets)")
	fs.StringVar(&opts.ClusterAssets, "cluster-assets", os.Getenv("CLUSTER_ASSETS"), "kubelet, kube-proxy, … (make cluster-assets)")
	fs.StringVar(&opts.LogDir, "logs", "bin/cluster/logs", "one log per component")
	fs.StringVar(&envFile, "env", "bin/cluster/node.env", "written once the node is Ready")
	fs.DurationVar(&opts.LockWait, "lock-wait", time.Minute, "how long to wait for another node to stop")
	fs.BoolVar(&sweepOnly, "sweep", false, "only remove what a killed node left behind, then exit")
	fs.BoolVar(&platform, "platform", false, "also install Shortlink's chart, PostgreSQL and Redis (make cluster)")
	fs.StringVar(&chart.Images, "images", "bin/images", "with -platform: the tarballs of make images")
	fs.StringVar(&chart.Helm, "helm", "bin/helm", "with -platform: the helm binary (make helm)")
	fs.StringVar(&chart.Namespace, "namespace", "shortlink-system", "with -platform: the namespace to install into")
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
	env := map[string]string{
		"KUBECONFIG": node.Kubeconfig, "KUBECTL": node.Kubectl, "NODE_IP": localnode.NodeIP,
		"LOCALNODE_PID": strconv.Itoa(os.Getpid()),
	}
	var p *localcluster.Platform
	if platform {
		p, err = installPlatform(ctx, node, chart, env)
	}
	if err == nil {
		err = localcluster.WriteEnv(envFile, env)
	}
	if err == nil {
		if p != nil {
			tryThis(envFile)
		}
		fmt.Printf("localnode: ready; set -a; . %s; set +a  (Ctrl-C stops it)\n", envFile)
		<-ctx.Done()
	}
	_ = os.Remove(envFile)
	if p != nil {
		err = errors.Join(err, p.Stop())
	}
	return errors.Join(err, node.Stop())
}

// installPlatform installs the chart and adds the platform's addresses to env.
func installPlatform(ctx context.Context, node *localnode.Node, chart localcluster.Options, env map[string]string) (*localcluster.Platform, error) {
	started := time.Now()
	fmt.Println("localnode: node Ready; installing Shortlink's chart with", localcluster.ValuesFile)
	p, err := localcluster.InstallChart(ctx, node, chart)
	if err != nil {
		return nil, err
	}
	platformEnv, err := p.Env(ctx)
	if err != nil {
		return nil, errors.Join(err, p.Stop())
	}
	for k, v := range platformEnv {
		env[k] = v
	}
	fmt.Printf("localnode: every Pod in %s Ready %s after the node\n", chart.Namespace, time.Since(started).Round(time.Second))
	return p, nil
}

func tryThis(envFile string) {
	fmt.Printf(`
Try this (in another shell):
  set -a; . %s; set +a
  $KUBECTL -n default apply -k config/samples
  $KUBECTL -n default wait shortlink/docs --for=condition=Ready
  curl -si -H 'Host: links.node.test' $REDIRECTOR_URL/docs    # 302 to the target
  $KUBECTL -n default get shortlinks                           # visits within seconds
  $KUBECTL -n $NAMESPACE get pods,hpa
  psql "$DATABASE_URL" -c 'select code, target from urls'

`, envFile)
}
