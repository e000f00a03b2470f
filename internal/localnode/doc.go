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

// Package localnode runs a real single-node Kubernetes cluster on this machine, for test/cluster
// and `make cluster`: etcd, kube-apiserver, kube-controller-manager and kube-scheduler; containerd
// on its own socket and root; kubelet and kube-proxy (iptables mode); CoreDNS and metrics-server
// as Deployments. Everything is built or installed offline (hack/cluster-assets.sh,
// hack/install-deps.sh).
//
// One node runs per machine at a time, behind a lock. Nothing leaves the machine: pods and
// services use ranges apart from the host's networks, DNS answers cluster names only, filter rules
// reject what kube-proxy has not programmed and anything from pods to outside the node's ranges,
// containerd pulls nothing. Nothing is left behind: Stop, or the next Start's sweep after a killed
// run, removes every sandbox, process, cgroup, mount, network namespace, link, iptables and
// ip6tables rule the node made, and restores the kernel settings it changed.
//
// The package holds the node's life cycle only; what runs on it is the tests' business.
package localnode
