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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// TestControlPlaneOnTheBridge starts the node's etcd and API server as Start does — on the
// bridge address, behind the node's filter rules, with its certificates — and checks that a
// client verifying the CA reaches it at NodeIP, that every add-on object is accepted, and that
// the admission policy refuses a Pod that could pull while admitting the same Pod with Never.
// It needs root and the envtest binaries, not kubelet; everything is swept afterwards.
func TestControlPlaneOnTheBridge(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	machine(t, "ip", "iptables-restore", filepath.Join(assets, "kube-apiserver"), filepath.Join(assets, "etcd"))
	n := &Node{opts: Options{LogDir: t.TempDir(), StartTimeout: 3 * time.Minute, KubeAssets: assets}, Kubeconfig: statePath("admin.kubeconfig")}
	t.Cleanup(func() {
		for i := len(n.daemons) - 1; i >= 0; i-- {
			_ = n.daemons[i].stop()
		}
		if err := sweep(); err != nil {
			t.Errorf("sweep: %v", err)
		}
	})
	if err := sweep(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{recordSysctls, makeCgroups, setUpNetwork} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	p, err := writePKI(statePath("pki"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.writeConfigs(p); err != nil {
		t.Fatal(err)
	}
	etcdURL, err := n.startEtcd()
	if err != nil {
		t.Fatal(err)
	}
	apiserver, err := n.launch("kube-apiserver", n.kube("kube-apiserver"), apiserverArgs(p, etcdURL)...)
	if err != nil {
		t.Fatal(err)
	}
	if n.Config, err = restConfig(n.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(n.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = apiserver.waitFor(n.opts.StartTimeout, func() error {
		_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	createAll(t, n, cs, admissionPolicy+"---\n"+fmt.Sprintf(addons, DNSServiceIP, ClusterDomain))

	// Without kube-controller-manager nobody makes the default service account a Pod needs.
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1", ImagePullPolicy: corev1.PullIfNotPresent}}},
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	deadline := time.Now().Add(time.Minute) // a new policy is enforced once it is compiled
	for {
		_, err = cs.CoreV1().Pods("default").Create(ctx, pod, dryRun)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "imagePullPolicy must be Never") {
		t.Errorf("a Pod with imagePullPolicy IfNotPresent: %v, want refused by the node's policy", err)
	}
	pod.Spec.Containers[0].ImagePullPolicy = corev1.PullNever
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, dryRun); err != nil {
		t.Errorf("a Pod with imagePullPolicy Never: %v", err)
	}
}

// createAll creates every object of a multi-document manifest.
func createAll(t *testing.T, n *Node, cs *kubernetes.Clientset, manifest string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(n.Config)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(cs.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	for _, doc := range strings.Split(manifest, "\n---\n") {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("parse: %v\n%s", err, doc)
		}
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Errorf("%s: %v", gvk, err)
			continue
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if ns := u.GetNamespace(); ns != "" {
			ri = dyn.Resource(m.Resource).Namespace(ns)
		}
		if _, err := ri.Create(context.Background(), &u, metav1.CreateOptions{}); err != nil {
			t.Errorf("create %s %s: %v", gvk.Kind, u.GetName(), err)
		}
	}
}
