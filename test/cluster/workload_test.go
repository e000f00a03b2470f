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
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

const testNamespace = "cluster-test"

// workloads: the pause image and the echo server (both built here, imported, never pulled) at 3
// replicas each, a Service in front of echo, and one client pod to reach it from.
const workloads = `apiVersion: v1
kind: Namespace
metadata: {name: cluster-test}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: pause, namespace: cluster-test}
spec:
  replicas: 3
  selector: {matchLabels: {app: pause}}
  template:
    metadata: {labels: {app: pause}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: pause
        image: shortlink.dev/cluster/pause:v1
        imagePullPolicy: Never
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: cluster-test}
spec:
  replicas: 3
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: echo
        image: shortlink.dev/cluster/echo:v1
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
        resources: {requests: {cpu: 10m, memory: 16Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: cluster-test}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: cluster-test}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: client
    image: shortlink.dev/cluster/echo:v1
    imagePullPolicy: Never
    env: [{name: ADDR, value: ":9090"}]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`

var workloadsOnce struct {
	done bool
}

// deployWorkloads applies the workloads once and waits until every replica is available.
func deployWorkloads(t *testing.T, n *localnode.Node) {
	t.Helper()
	if workloadsOnce.done {
		return
	}
	kubectlIn(t, n, workloads, "apply", "-f", "-")
	cs := clientset(t, n)
	ctx := context.Background()
	for _, name := range []string{"pause", "echo"} {
		eventually(t, 4*time.Minute, func() error {
			d, err := cs.AppsV1().Deployments(testNamespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if d.Status.AvailableReplicas != 3 {
				return fmt.Errorf("deployment %s: %d of 3 replicas available", name, d.Status.AvailableReplicas)
			}
			return nil
		})
	}
	eventually(t, 2*time.Minute, func() error {
		p, err := cs.CoreV1().Pods(testNamespace).Get(ctx, "client", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("client pod is %s", p.Status.Phase)
		}
		return nil
	})
	workloadsOnce.done = true
}

// TestWorkloadsServiceDNSLogsExecTop is the first proof: the node is Ready, both
// Deployments reach 3 replicas, the Service answers by ClusterIP and by DNS name from another
// pod (through kubectl exec), kubectl logs shows the server's line and kubectl top shows pods.
func TestWorkloadsServiceDNSLogsExecTop(t *testing.T) {
	n := node(t)
	cs := clientset(t, n)
	ctx := context.Background()
	nodeObj, err := cs.CoreV1().Nodes().Get(ctx, localnode.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ready(nodeObj) {
		t.Fatalf("node %s is not Ready: %+v", localnode.NodeName, nodeObj.Status.Conditions)
	}
	deployWorkloads(t, n)

	pods := echoPods(t, n)
	svc, err := cs.CoreV1().Services(testNamespace).Get(ctx, "echo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every replica answers through the ClusterIP (kube-proxy picks at random: 30 tries miss a
	// replica with probability about 1e-5).
	seen := map[string]bool{}
	for i := 0; i < 30 && len(seen) < len(pods); i++ {
		seen[strings.TrimSpace(kubectl(t, n, "-n", testNamespace, "exec", "client", "--", "/echo", "get", "http://"+svc.Spec.ClusterIP+"/"))] = true
	}
	for _, p := range pods {
		if !seen[p] {
			t.Errorf("replica %s never answered through ClusterIP %s; answers from %v", p, svc.Spec.ClusterIP, seen)
		}
	}
	for _, url := range []string{"http://echo." + testNamespace + ".svc." + localnode.ClusterDomain + "/", "http://echo/"} {
		got := strings.TrimSpace(kubectl(t, n, "-n", testNamespace, "exec", "client", "--", "/echo", "get", url))
		if !contains(pods, got) {
			t.Errorf("GET %s from the client pod answered %q, not an echo pod (%v)", url, got, pods)
		}
	}
	if logs := kubectl(t, n, "-n", testNamespace, "logs", pods[0]); !strings.Contains(logs, "echo: serving on :8080 as "+pods[0]) {
		t.Errorf("kubectl logs %s = %q, want the server's start line", pods[0], logs)
	}
	// metrics-server scrapes every 15 s; the first figures take a scrape or two.
	eventually(t, 3*time.Minute, func() error {
		out, err := kubectlErr(n, "", "-n", testNamespace, "top", "pods", "--no-headers")
		if err != nil {
			return err
		}
		for _, p := range pods {
			if !strings.Contains(out, p) {
				return fmt.Errorf("kubectl top pods lacks %s:\n%s", p, out)
			}
		}
		return nil
	})
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// echoPods are the names of the echo Deployment's running pods.
func echoPods(t *testing.T, n *localnode.Node) []string {
	t.Helper()
	list, err := clientset(t, n).CoreV1().Pods(testNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=echo"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	if len(names) != 3 {
		t.Fatalf("want 3 running echo pods, got %v", names)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kubectl(t *testing.T, n *localnode.Node, args ...string) string {
	t.Helper()
	out, err := kubectlErr(n, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func kubectlIn(t *testing.T, n *localnode.Node, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlErr(n, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func kubectlErr(n *localnode.Node, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Kubectl, append([]string{"--kubeconfig", n.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// eventually polls check until it succeeds or timeout passes, then fails with its last error.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(time.Second)
	}
}
