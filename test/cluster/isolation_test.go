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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// TestDNSAnswersClusterNamesOnly is the second proof, by DNS answer: CoreDNS answers a
// service name with its ClusterIP and fails an outside name itself, since it has no plugin that
// could ask anyone else. The query goes from a pod to CoreDNS only; nothing is sent further.
func TestDNSAnswersClusterNamesOnly(t *testing.T) {
	n := node(t)
	deployWorkloads(t, n)
	got := kubectl(t, n, "-n", testNamespace, "exec", "client", "--", "/echo", "dns", "kubernetes.default.svc."+localnode.ClusterDomain)
	if want := "rcode=RCodeSuccess a=" + localnode.APIServiceIP; strings.TrimSpace(got) != want {
		t.Errorf("cluster name: answer %q, want %q", got, want)
	}
	got = kubectl(t, n, "-n", testNamespace, "exec", "client", "--", "/echo", "dns", "example.com")
	if strings.TrimSpace(got) != "rcode=RCodeServerFailure a=" {
		t.Errorf("outside name: answer %q, want a failure from CoreDNS with no address", got)
	}
	// The binary itself cannot forward: forward is not among the plugins compiled in.
	out, err := exec.Command(filepath.Join(os.Getenv("CLUSTER_ASSETS"), "coredns"), "-plugins").CombinedOutput() //nolint:gosec // our own asset binary with a constant argument
	if err != nil {
		t.Fatalf("coredns -plugins: %v: %s", err, out)
	}
	plugins := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		plugins[p] = true
	}
	if !plugins["kubernetes"] || plugins["forward"] || len(plugins) > 8 {
		t.Errorf("coredns plugins = %q; want kubernetes and the few beside it, no forward", strings.Fields(string(out)))
	}
}

// TestRulesKeepTrafficInside is the second proof, by the installed rules: the node's
// filter chain is first in FORWARD and OUTPUT and rejects unprogrammed service addresses, pod
// addresses off the bridge, and pods' traffic to outside the pod range; the service range is
// routed onto the bridge, not the default route; the bridge plugin masquerades nothing.
func TestRulesKeepTrafficInside(t *testing.T) {
	n := node(t)
	deployWorkloads(t, n) // the rules must hold with kube-proxy's and the CNI's rules in place
	save, err := exec.Command("iptables-save", "-t", "filter").Output()
	if err != nil {
		t.Fatal(err)
	}
	rules := normaliseRules(string(save))
	for _, r := range localnode.FilterRules() {
		if !strings.Contains(rules, r+"\n") {
			t.Errorf("filter table lacks %q:\n%s", r, rules)
		}
	}
	for _, chain := range []string{"FORWARD", "OUTPUT"} {
		if first := firstRule(rules, chain); first != "-A "+chain+" -j SHORTLINK-NODE" {
			t.Errorf("first %s rule is %q, want the jump to SHORTLINK-NODE", chain, first)
		}
	}
	route, err := exec.Command("ip", "route", "get", "10.96.255.254").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(route), "dev "+localnode.Bridge) {
		t.Errorf("an unprogrammed service address routes %q, want onto %s", route, localnode.Bridge)
	}
	nat, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(nat), "\n") {
		if strings.Contains(line, "-s "+localnode.PodCIDR) && strings.Contains(line, "MASQUERADE") {
			t.Errorf("pod traffic is masqueraded (ipMasq must be off): %s", line)
		}
	}
}

func firstRule(rules, chain string) string {
	for _, line := range strings.Split(rules, "\n") {
		if strings.HasPrefix(line, "-A "+chain+" ") {
			return line
		}
	}
	return ""
}

// TestPodsThatCouldPullAreRefused: the admission policy refuses a Pod whose imagePullPolicy is
// not Never, and admits the same Pod with Never.
func TestPodsThatCouldPullAreRefused(t *testing.T) {
	n := node(t)
	cs := clientset(t, n)
	ctx := context.Background()
	pod := func(policy corev1.PullPolicy) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "pull-", Namespace: "default"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "c", Image: "shortlink.dev/cluster/echo:v1", ImagePullPolicy: policy,
			}}},
		}
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	// A policy is enforced once the API server has compiled it: poll for that.
	eventually(t, time.Minute, func() error {
		_, err := cs.CoreV1().Pods("default").Create(ctx, pod(corev1.PullIfNotPresent), dryRun)
		if err == nil {
			return errors.New("a Pod with imagePullPolicy IfNotPresent was admitted")
		}
		if !strings.Contains(err.Error(), "imagePullPolicy must be Never") {
			t.Fatalf("refused for another reason: %v", err)
		}
		return nil
	})
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod(corev1.PullNever), dryRun); err != nil {
		t.Errorf("a Pod with imagePullPolicy Never was refused: %v", err)
	}
}

// TestOneNodePerMachine: a second start while the node runs waits for the lock, then fails
// with ErrBusy, touching nothing.
func TestOneNodePerMachine(t *testing.T) {
	node(t)
	opts := options()
	opts.LogDir = logsDir(t)
	opts.LockWait = 2 * time.Second
	second, err := localnode.Start(context.Background(), opts)
	if err == nil {
		_ = second.Stop()
		t.Fatal("a second node started beside the first")
	}
	if !errors.Is(err, localnode.ErrBusy) {
		t.Fatalf("second start: %v, want ErrBusy", err)
	}
	// The first node is untouched.
	cs := clientset(t, shared.node)
	nodeObj, err := cs.CoreV1().Nodes().Get(context.Background(), localnode.NodeName, metav1.GetOptions{})
	if err != nil || !ready(nodeObj) {
		t.Fatalf("the running node after a refused second start: %v", err)
	}
}
