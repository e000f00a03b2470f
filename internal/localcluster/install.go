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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// Release is the Helm release name; with it the chart's objects are named shortlink-*, as the
// kustomize tree's namePrefix names them.
const Release = "shortlink"

// ValuesFile is the chart's values for the node (images never pulled, small requests),
// relative to the repository root; `make cluster` and test/cluster use it alike.
const ValuesFile = "hack/cluster/values.yaml"

// BackendsSecret is the Secret both renderings read the backends from.
const BackendsSecret = "shortlink-backends"

// Images are the tarballs `make images` writes, imported into the node's containerd.
var Images = []string{"manager.tar", "redirector.tar", "pgbouncer.tar"}

// ImportImages loads the platform's images from dir into the node.
func ImportImages(node *localnode.Node, dir string) error {
	paths := make([]string, len(Images))
	for i, img := range Images {
		paths[i] = filepath.Join(dir, img)
		if _, err := os.Stat(paths[i]); err != nil {
			return fmt.Errorf("localcluster: %w (make images)", err)
		}
	}
	return node.ImportImages(paths...)
}

// PrepareNamespace creates ns enforcing the restricted Pod Security Standard (and warning and
// auditing by it), with the backends Secret in it.
func PrepareNamespace(ctx context.Context, cs kubernetes.Interface, ns string, backends map[string]string) error {
	labels := map[string]string{}
	for _, mode := range []string{"enforce", "warn", "audit"} {
		labels["pod-security.kubernetes.io/"+mode] = "restricted"
		labels["pod-security.kubernetes.io/"+mode+"-version"] = "latest"
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("localcluster: namespace %s: %w", ns, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: BackendsSecret, Namespace: ns}, StringData: backends}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("localcluster: backends secret: %w", err)
	}
	return nil
}

// Command runs a tool (helm, kubectl, kustomize) against the node from the repository root;
// it returns stdout, and stderr apart, since warnings (PodSecurity's among them) go there.
func Command(ctx context.Context, node *localnode.Node, root, tool string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, tool, args...) //nolint:gosec // our own tools with our own arguments
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KUBECONFIG="+node.Kubeconfig)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(tool), strings.Join(args, " "), err,
			strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), nil
}

// WaitReady waits until every Deployment in ns has all its replicas updated and ready and
// every Pod is Running and Ready; the error names what is not.
func WaitReady(ctx context.Context, cs kubernetes.Interface, ns string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := notReady(ctx, cs, ns)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localcluster: namespace %s not ready after %s: %w", ns, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func notReady(ctx context.Context, cs kubernetes.Interface, ns string) error {
	deployments, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	if len(deployments.Items) == 0 {
		return errors.New("no deployments yet")
	}
	var waiting []string
	for _, d := range deployments.Items {
		if !deploymentDone(&d) {
			waiting = append(waiting, "deployment/"+d.Name)
		}
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, p := range pods.Items {
		if !PodReady(&p) {
			waiting = append(waiting, "pod/"+p.Name+" "+string(p.Status.Phase))
		}
	}
	if len(waiting) > 0 {
		sort.Strings(waiting)
		return fmt.Errorf("waiting for %s", strings.Join(waiting, ", "))
	}
	return nil
}

func deploymentDone(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want && s.Replicas == want
}

// PodReady says whether a pod is Running with its Ready condition true.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WriteEnv writes KEY='value' lines, sorted, for a shell to source.
func WriteEnv(path string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "='" + strings.ReplaceAll(env[k], "'", `'\''`) + "'\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	// Renamed into place: whoever waits for the file never reads half of it.
	if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	return os.Rename(path+".tmp", path)
}
