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
	"fmt"
	"os"
	"path/filepath"
)

// cniNetwork names the pods' network in the CNI config and in libcni's cache.
const cniNetwork = "shortlink-node"

// PauseImage is the sandbox image: ours (hack/cluster/pause), imported, never pulled.
const PauseImage = "shortlink.dev/cluster/pause:v1"

// nowhere is where every registry points: a closed port on loopback, so a pull fails at once
// without a packet leaving the machine or a name being looked up.
const nowhere = "http://127.0.0.1:1"

func writeFile(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil { //nolint:gosec // configuration, no secrets (keys are 0600)
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// writeContainerdConfig: containerd on its own socket, root and state, with:
// restrict_oom_score_adj, because root here lacks CAP_SYS_RESOURCE and runc fails every sandbox
// otherwise; network namespaces mounted under its state dir, so a sweep finds them; the local
// pause image; every registry pointing nowhere.
func writeContainerdConfig(cniBin string) error {
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, statePath("containerd"), runPath("containerd"), containerdSocket(), runPath("containerd", "ttrpc.sock"),
		PauseImage, cniBin, statePath("cni", "net.d"), statePath("containerd-certs.d"))
	if err := writeFile(statePath("containerd.toml"), config); err != nil {
		return err
	}
	hosts := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", nowhere, nowhere)
	for _, registry := range []string{"_default", "docker.io", "registry.k8s.io", "ghcr.io", "quay.io", "shortlink.dev"} {
		if err := writeFile(statePath("containerd-certs.d", registry, "hosts.toml"), hosts); err != nil {
			return err
		}
	}
	return nil
}

// writeCNIConfig: the bridge (adopting the one setUpNetwork made) with host-local addresses
// from PodCIDR, no masquerade (nothing is to leave the node), hairpin for a pod reaching itself
// through a service; portmap for hostPorts.
func writeCNIConfig() error {
	return writeFile(statePath("cni", "net.d", "10-shortlink-node.conflist"), fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": %q,
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, cniNetwork, Bridge, statePath("cni", "networks"), PodCIDR, NodeIP))
}

// writeKubeletConfig: cgroupfs under the node's own cgroupRoot; webhook authentication and
// authorization; a serving certificate for NodeIP; an empty resolvConf (pods learn no outside
// resolver); image GC and eviction thresholds that a full disk here will not trip (as kind).
func writeKubeletConfig(p *pki) error {
	return writeFile(statePath("kubelet.yaml"), fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /%s
cgroupsPerQOS: true
address: %s
port: 10250
readOnlyPort: 0
healthzPort: 0
containerRuntimeEndpoint: unix://%s
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %s
authorization:
  mode: Webhook
tlsCertFile: %s
tlsPrivateKeyFile: %s
clusterDNS: [%s]
clusterDomain: %s
resolvConf: ""
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "0%%"
  nodefs.inodesFree: "0%%"
  imagefs.available: "0%%"
  imagefs.inodesFree: "0%%"
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
staticPodPath: ""
`, cgroupName, NodeIP, containerdSocket(), p.path("ca.crt"), p.path("kubelet-serving.crt"),
		p.path("kubelet-serving.key"), DNSServiceIP, ClusterDomain))
}

// writeKubeProxyConfig: iptables mode on the node's ranges; conntrack limits and route_localnet
// left as they are (a zero keeps the kernel's value), so the host's settings stay untouched.
func writeKubeProxyConfig() error {
	return writeFile(statePath("kube-proxy.yaml"), fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: %s
hostnameOverride: %s
bindAddress: %s
healthzBindAddress: %s:10256
metricsBindAddress: %s:10249
clusterCIDR: %s
# NodePorts on the node's own address only, not on every address of the host.
nodePortAddresses: [primary]
iptables:
  localhostNodePorts: false
  masqueradeAll: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, statePath("kube-proxy.kubeconfig"), NodeName, NodeIP, NodeIP, NodeIP, PodCIDR))
}
