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

package localcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// Options say where the chart, its tools and the images are.
type Options struct {
	// Root is the repository root (charts/shortlink, ValuesFile and KustomizeDir are read from
	// it); empty means localenv.RepoRoot.
	Root string
	// Helm is the helm binary (`make helm`); a kustomize install does not use it.
	Helm string
	// Images holds the tarballs of `make images`.
	Images string
	// Namespace is created for a chart install; it must not exist. A kustomize install uses
	// KustomizeNamespace, which its overlay names.
	Namespace string
	// Timeout bounds the wait for every Pod to be Ready (default 5 minutes).
	Timeout time.Duration
	// Args are more `helm install` arguments (--set …).
	Args []string
}

// KustomizeDir is the node's overlay of config/default, relative to the repository root, and
// KustomizeNamespace the namespace it installs into.
const (
	KustomizeDir       = "hack/cluster/kustomize"
	KustomizeNamespace = "shortlink-kustomize"
)

// Platform is Shortlink installed on the node, with its backends.
type Platform struct {
	Node      *localnode.Node
	Backends  *Backends
	Namespace string
	// Warnings is what the install wrote to stderr: the API server's warnings, PodSecurity's
	// among them.
	Warnings string

	client kubernetes.Interface
}

// InstallChart installs the chart with the node's values into a new namespace that enforces
// the restricted Pod Security Standard (see install).
func InstallChart(ctx context.Context, node *localnode.Node, o Options) (*Platform, error) {
	args := append([]string{"install", Release, "charts/shortlink", "--namespace", o.Namespace, "-f", ValuesFile}, o.Args...)
	return install(ctx, node, o, o.Helm, args...)
}

// InstallKustomize applies the node's overlay of config/default (KustomizeDir) into
// KustomizeNamespace, made as InstallChart makes its own (see install).
func InstallKustomize(ctx context.Context, node *localnode.Node, o Options) (*Platform, error) {
	o.Namespace = KustomizeNamespace
	return install(ctx, node, o, node.Kubectl, "apply", "--server-side", "--force-conflicts", "-k", KustomizeDir)
}

// install imports the images, starts backends of the install's own, prepares its namespace
// and the backends Secret, runs the tool, and returns once every Pod there is Ready. On
// failure the backends are stopped.
func install(ctx context.Context, node *localnode.Node, o Options, tool string, args ...string) (p *Platform, err error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Root == "" {
		if o.Root, err = localenv.RepoRoot(); err != nil {
			return nil, fmt.Errorf("localcluster: %w", err)
		}
	}
	cs, err := kubernetes.NewForConfig(node.Config)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if err := ImportImages(node, o.Images); err != nil {
		return nil, err
	}
	backends, err := StartBackends(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, backends.Stop())
		}
	}()
	if err := PrepareNamespace(ctx, cs, o.Namespace, backends.SecretData(Release+"-pgbouncer")); err != nil {
		return nil, err
	}
	_, warnings, err := Command(ctx, node, o.Root, tool, args...)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	if err := WaitReady(ctx, cs, o.Namespace, o.Timeout); err != nil {
		return nil, err
	}
	return &Platform{Node: node, Backends: backends, Namespace: o.Namespace, Warnings: warnings, client: cs}, nil
}

// RedirectorURL is the redirector Service's ClusterIP and port, reachable from this host.
func (p *Platform) RedirectorURL(ctx context.Context) (string, error) {
	svc, err := p.client.CoreV1().Services(p.Namespace).Get(ctx, Release+"-redirector", metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("localcluster: redirector service: %w", err)
	}
	for _, port := range svc.Spec.Ports {
		if port.Name == "http" {
			return fmt.Sprintf("http://%s:%d", svc.Spec.ClusterIP, port.Port), nil
		}
	}
	return "", errors.New("localcluster: the redirector Service has no http port")
}

// Env is what `make cluster` writes to bin/cluster/env for a shell to source.
func (p *Platform) Env(ctx context.Context) (map[string]string, error) {
	redirector, err := p.RedirectorURL(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"KUBECONFIG":     p.Node.Kubeconfig,
		"KUBECTL":        p.Node.Kubectl,
		"NAMESPACE":      p.Namespace,
		"REDIRECTOR_URL": redirector,
		"DATABASE_URL":   p.Backends.DatabaseURL(),
		"REDIS_URL":      p.Backends.RedisURL(),
	}, nil
}

// Stop stops the backends; the node's own Stop removes everything in the cluster.
func (p *Platform) Stop() error { return p.Backends.Stop() }
