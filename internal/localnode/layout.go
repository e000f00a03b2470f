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

import "path/filepath"

// The node's names and ranges. They are fixed, not per run: one node runs per machine, and a
// sweep after a killed run must find what that run made without any record of it.
const (
	// NodeName is the Node object's name and kubelet's hostname override.
	NodeName = "shortlink-node"
	// Bridge is the pods' bridge; its address is the node's IP, where the API server serves.
	Bridge = "slnode0"
	// NodeIP is the bridge gateway: reachable from the host and from every pod.
	NodeIP = "10.244.0.1"
	// PodCIDR holds every pod address. Like the service range it avoids the host's own
	// networks (the host's resolver sits in 10.255.0.0/16).
	PodCIDR = "10.244.0.0/24"
	// ServiceCIDR is shared by the API server, kube-controller-manager and kube-proxy.
	ServiceCIDR = "10.96.0.0/16"
	// APIServiceIP is the first address of ServiceCIDR: kubernetes.default.svc.
	APIServiceIP = "10.96.0.1"
	// DNSServiceIP is CoreDNS's ClusterIP, given to every pod by kubelet.
	DNSServiceIP = "10.96.0.10"
	// ClusterDomain is the DNS suffix of services and pods.
	ClusterDomain = "cluster.local"
	// APIServerPort is the API server's port on NodeIP; no other process binds that address.
	APIServerPort = 6443
	// cgroupName is kubelet's cgroupRoot and, beside kubepods, holds the node's own daemons:
	// everything the node runs is under it in every v1 hierarchy.
	cgroupName = "shortlink-node"
	// filterChain holds the node's own filter rules (see network.go).
	filterChain = "SHORTLINK-NODE"
	// kubeletName and kubeProxyName each name a binary, a daemon (and its log) and a client
	// identity (certificate and kubeconfig).
	kubeletName   = "kubelet"
	kubeProxyName = "kube-proxy"
	// frontProxyClient is the API server's client identity towards aggregated API servers.
	frontProxyClient = "front-proxy-client"
)

// Paths of the node's state. Both trees go whole on stop, after everything mounted under them
// is unmounted.
var (
	// StateDir holds what outlives a process: certificates, etcd, containerd's and kubelet's roots.
	StateDir = "/var/lib/shortlink-node"
	// RunDir holds sockets and containerd's state (network namespaces are mounted there too).
	RunDir = "/run/shortlink-node"
	// lockPath is the machine-wide lock: outside both trees, so a sweep never removes it.
	lockPath = "/run/shortlink-node.lock"
)

func statePath(elem ...string) string { return filepath.Join(append([]string{StateDir}, elem...)...) }
func runPath(elem ...string) string   { return filepath.Join(append([]string{RunDir}, elem...)...) }

// containerdSocket is containerd's CRI endpoint, apart from any system containerd's.
func containerdSocket() string { return runPath("containerd", "containerd.sock") }
