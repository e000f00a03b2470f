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

package localnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options say where the binaries are and how long to wait.
type Options struct {
	// KubeAssets holds etcd, kube-apiserver, kube-controller-manager and kubectl
	// (`make envtest-assets`).
	KubeAssets string
	// ClusterAssets holds kubelet, kube-scheduler, kube-proxy, CoreDNS, metrics-server, the CNI
	// plugins and the images (`make cluster-assets`).
	ClusterAssets string
	// LogDir receives one log per component; it outlives the node, for a person to read.
	LogDir string
	// LockWait is how long Start waits for another node to stop before failing with ErrBusy.
	LockWait time.Duration
	// StartTimeout bounds each component's start-up and the node's readiness.
	StartTimeout time.Duration
}

// Node is a running single-node cluster.
type Node struct {
	// Kubeconfig is an admin kubeconfig (system:masters).
	Kubeconfig string
	// Config is the same admin identity for client-go.
	Config *rest.Config
	// Kubectl is the kubectl binary of the node's version.
	Kubectl string

	opts    Options
	lock    *lock
	daemons []*daemon // in start order; stopped in reverse
}

// Requirements lists what the node needs from the machine but are missing; empty when it can
// start. Tests skip on it outside CI and fail under CI=true.
func Requirements(opts Options) []string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"containerd", "runc", "ctr", "iptables", "iptables-save", "iptables-restore", "ip6tables-save", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (make install-deps)")
		}
	}
	for _, f := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(opts.KubeAssets, f)); err != nil {
			missing = append(missing, f+" (make envtest-assets)")
		}
	}
	for _, f := range []string{kubeletName, "kube-scheduler", kubeProxyName, "crisweep", "cni/bridge", "images/pause.tar"} {
		if _, err := os.Stat(filepath.Join(opts.ClusterAssets, f)); err != nil {
			missing = append(missing, f+" (make cluster-assets)")
		}
	}
	return missing
}

// Start takes the machine's lock, sweeps what a killed earlier node left, and starts a node;
// it returns once the Node is Ready and CoreDNS and metrics-server are available. On failure
// everything started is stopped and swept again.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if missing := Requirements(opts); len(missing) > 0 {
		return nil, fmt.Errorf("localnode: missing %v", missing)
	}
	if opts.LockWait == 0 {
		opts.LockWait = 5 * time.Minute
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil { //nolint:gosec // the logs outlive the node for a person to read
		return nil, fmt.Errorf("localnode: %w", err)
	}
	l, err := acquireLock(ctx, opts.LockWait)
	if err != nil {
		return nil, err
	}
	n := &Node{opts: opts, lock: l, Kubectl: filepath.Join(opts.KubeAssets, "kubectl"), Kubeconfig: statePath("admin.kubeconfig")}
	if err := sweep(); err != nil {
		l.release()
		return nil, fmt.Errorf("localnode: sweep what an earlier node left: %w", err)
	}
	if err := n.start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("localnode: start: %w", err), n.Stop())
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	if err := recordSysctls(); err != nil {
		return err
	}
	if err := makeCgroups(); err != nil {
		return err
	}
	if err := setUpNetwork(); err != nil {
		return err
	}
	p, err := writePKI(statePath("pki"))
	if err != nil {
		return err
	}
	if err := n.writeConfigs(p); err != nil {
		return err
	}
	if err := n.startControlPlane(ctx, p); err != nil {
		return err
	}
	if err := n.startWorker(ctx); err != nil {
		return err
	}
	return n.installAddons(ctx)
}

func (n *Node) writeConfigs(p *pki) error {
	for file, client := range map[string]string{
		"admin.kubeconfig": "admin", "kubelet.kubeconfig": kubeletName, "kube-proxy.kubeconfig": kubeProxyName,
		"controller-manager.kubeconfig": "controller-manager", "scheduler.kubeconfig": "scheduler",
	} {
		if err := p.kubeconfig(statePath(file), client); err != nil {
			return err
		}
	}
	steps := []func() error{
		func() error { return writeContainerdConfig(filepath.Join(n.opts.ClusterAssets, "cni")) },
		writeCNIConfig,
		func() error { return writeKubeletConfig(p) },
		writeKubeProxyConfig,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// launch starts a daemon and remembers it for Stop.
func (n *Node) launch(name, path string, args ...string) (*daemon, error) {
	d := &daemon{name: name, path: path, args: args, log: filepath.Join(n.opts.LogDir, name+".log")}
	_ = os.Remove(d.log)
	if err := d.start(); err != nil {
		return nil, err
	}
	n.daemons = append(n.daemons, d)
	return d, nil
}

func (n *Node) kube(bin string) string    { return filepath.Join(n.opts.KubeAssets, bin) }
func (n *Node) cluster(bin string) string { return filepath.Join(n.opts.ClusterAssets, bin) }

// startWorker starts containerd, imports the images, then kubelet and kube-proxy; it waits for
// the Node to be Ready and puts the node's filter jumps back above theirs.
func (n *Node) startWorker(ctx context.Context) error {
	containerd, err := n.launch("containerd", "containerd", "--config", statePath("containerd.toml"))
	if err != nil {
		return err
	}
	if err := containerd.waitFor(n.opts.StartTimeout, n.importImages); err != nil {
		return err
	}
	kubelet, err := n.launch(kubeletName, n.cluster(kubeletName),
		"--config", statePath("kubelet.yaml"), "--kubeconfig", statePath("kubelet.kubeconfig"),
		"--root-dir", statePath(kubeletName), "--node-ip", NodeIP, "--hostname-override", NodeName, "--v", "1")
	if err != nil {
		return err
	}
	proxy, err := n.launch(kubeProxyName, n.cluster(kubeProxyName), "--config", statePath("kube-proxy.yaml"), "--v", "1")
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(n.Config)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if err := kubelet.waitFor(n.opts.StartTimeout, func() error { return nodeReady(ctx, cs) }); err != nil {
		return err
	}
	// No pod has run yet: the add-ons come after this.
	return proxy.waitFor(n.opts.StartTimeout, pinFilterJumps)
}

// importImages loads the node's images into containerd's k8s.io namespace; it fails (and is
// retried) until containerd answers.
func (n *Node) importImages() error {
	images, err := filepath.Glob(filepath.Join(n.opts.ClusterAssets, "images", "*.tar"))
	if err != nil || len(images) == 0 {
		return fmt.Errorf("no images in %s", n.opts.ClusterAssets)
	}
	return n.ImportImages(images...)
}

// KillContainer sends SIGKILL to a container's task through containerd, as an out-of-memory
// kill or a crashed process would end it: no preStop, no SIGTERM, no grace period. id is the
// container ID of a Pod's status, with or without its "containerd://" prefix.
func (n *Node) KillContainer(id string) error {
	return run("ctr", "--address", containerdSocket(), "--namespace", "k8s.io", "tasks", "kill", "--signal", "SIGKILL",
		strings.TrimPrefix(id, "containerd://"))
}

// ImportImages loads image tarballs (docker save layout, os and architecture in their config)
// into the node's containerd, where kubelet finds them: Pods run them with imagePullPolicy
// Never, since nothing is ever pulled.
func (n *Node) ImportImages(tarballs ...string) error {
	for _, img := range tarballs {
		if err := run("ctr", "--address", containerdSocket(), "--namespace", "k8s.io", "images", "import", img); err != nil {
			return err
		}
	}
	return nil
}

func nodeReady(ctx context.Context, cs kubernetes.Interface) error {
	node, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("node %s: %w", NodeName, errNotReady)
}

// Stop removes every sandbox through the CRI while containerd still runs, stops the daemons,
// sweeps everything the node made and releases the lock. It is safe to call twice.
func (n *Node) Stop() error {
	if n == nil || n.lock == nil {
		return nil
	}
	var errs []error
	// kubelet first, so it does not restart what is being removed.
	for _, d := range n.daemons {
		if d.name == kubeletName {
			errs = append(errs, d.stop())
		}
	}
	for _, d := range n.daemons {
		if d.name == "containerd" && d.running() {
			if err := run(n.cluster("crisweep"), "-endpoint", containerdSocket()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i := len(n.daemons) - 1; i >= 0; i-- {
		errs = append(errs, n.daemons[i].stop())
	}
	n.daemons = nil
	errs = append(errs, sweep())
	n.lock.release()
	n.lock = nil
	return errors.Join(errs...)
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	return port, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", kubeconfig, err)
	}
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Sweep takes the machine's lock and removes what a killed node left behind, without starting
// one.
func Sweep(ctx context.Context, lockWait time.Duration) error {
	l, err := acquireLock(ctx, lockWait)
	if err != nil {
		return err
	}
	defer l.release()
	return sweep()
}
