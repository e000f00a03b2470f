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
	"net"
	"strconv"

	"k8s.io/client-go/kubernetes"
)

// startControlPlane starts etcd on loopback, the API server on NodeIP, then
// kube-controller-manager and kube-scheduler, and installs the node's admission policy.
func (n *Node) startControlPlane(ctx context.Context, p *pki) error {
	etcdURL, err := n.startEtcd()
	if err != nil {
		return err
	}
	apiserver, err := n.launch("kube-apiserver", n.kube("kube-apiserver"), apiserverArgs(p, etcdURL)...)
	if err != nil {
		return err
	}
	if n.Config, err = restConfig(n.Kubeconfig); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(n.Config)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	err = apiserver.waitFor(n.opts.StartTimeout, func() error {
		_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
	if err != nil {
		return err
	}
	common := func(kubeconfig string) []string {
		return []string{"--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig,
			"--authorization-kubeconfig", kubeconfig, "--leader-elect=false", "--secure-port=0", "--v=1"}
	}
	_, err = n.launch("kube-controller-manager", n.kube("kube-controller-manager"), append(common(statePath("controller-manager.kubeconfig")),
		// Every controller enabled by default: deployment, replicaset, endpointslice,
		// serviceaccount(-token), root-ca-cert-publisher, disruption, horizontalpodautoscaling,
		// podgc, garbagecollector, namespace, nodelifecycle, …
		"--controllers=*",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file", p.path("sa.key"),
		"--root-ca-file", p.path("ca.crt"),
		"--cluster-signing-cert-file", p.path("ca.crt"), "--cluster-signing-key-file", p.path("ca.key"),
		"--service-cluster-ip-range", ServiceCIDR,
		"--cluster-cidr", PodCIDR,
	)...)
	if err != nil {
		return err
	}
	if _, err := n.launch("kube-scheduler", n.cluster("kube-scheduler"), common(statePath("scheduler.kubeconfig"))...); err != nil {
		return err
	}
	return n.apply(ctx, admissionPolicy)
}

func (n *Node) startEtcd() (string, error) {
	client, err := freePort()
	if err != nil {
		return "", err
	}
	peer, err := freePort()
	if err != nil {
		return "", err
	}
	clientURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(client))
	peerURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(peer))
	etcd, err := n.launch("etcd", n.kube("etcd"), "--name", "default", "--data-dir", statePath("etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL, "--unsafe-no-fsync")
	if err != nil {
		return "", err
	}
	return clientURL, etcd.waitFor(n.opts.StartTimeout, func() error {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(client)))
		if err == nil {
			_ = c.Close()
		}
		return err
	})
}

// apiserverArgs: serving on NodeIP, which pods reach through the bridge and kubernetes.default
// leads to; Node and RBAC authorization; the aggregation layer's front proxy for metrics-server.
func apiserverArgs(p *pki, etcdURL string) []string {
	return []string{
		"--etcd-servers", etcdURL,
		"--bind-address", NodeIP, "--advertise-address", NodeIP, "--secure-port", strconv.Itoa(APIServerPort),
		"--service-cluster-ip-range", ServiceCIDR,
		"--tls-cert-file", p.path("apiserver.crt"), "--tls-private-key-file", p.path("apiserver.key"),
		"--client-ca-file", p.path("ca.crt"),
		"--service-account-issuer", "https://kubernetes.default.svc." + ClusterDomain,
		"--service-account-key-file", p.path("sa.pub"), "--service-account-signing-key-file", p.path("sa.key"),
		"--authorization-mode", "Node,RBAC",
		"--enable-admission-plugins", "NodeRestriction",
		"--allow-privileged=true",
		"--kubelet-client-certificate", p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key", p.path("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority", p.path("ca.crt"),
		"--kubelet-preferred-address-types", "InternalIP",
		"--requestheader-client-ca-file", p.path("front-proxy-ca.crt"),
		"--requestheader-allowed-names", frontProxyClient,
		"--requestheader-username-headers", "X-Remote-User",
		"--requestheader-group-headers", "X-Remote-Group",
		"--requestheader-extra-headers-prefix", "X-Remote-Extra-",
		"--proxy-client-cert-file", p.path("front-proxy-client.crt"),
		"--proxy-client-key-file", p.path("front-proxy-client.key"),
		// Reach metrics-server by its endpoints, not through its service IP.
		"--enable-aggregator-routing=true",
		"--profiling=false",
		"--v=1",
	}
}

// admissionPolicy refuses every Pod that could pull an image: the node has no registry it may
// reach, so an image is either imported or the Pod is wrong.
const admissionPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: shortlink-node-no-pulls
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods", "pods/ephemeralcontainers"]
  validations:
  - expression: >-
      object.spec.containers.all(c, has(c.imagePullPolicy) && c.imagePullPolicy == 'Never') &&
      (!has(object.spec.initContainers) || object.spec.initContainers.all(c, has(c.imagePullPolicy) && c.imagePullPolicy == 'Never')) &&
      (!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(c, has(c.imagePullPolicy) && c.imagePullPolicy == 'Never'))
    message: "this node pulls no images: every container's imagePullPolicy must be Never (import the image instead)"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: shortlink-node-no-pulls
spec:
  policyName: shortlink-node-no-pulls
  validationActions: [Deny]
`
