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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/shortlink-dev/shortlink/internal/localnode"
)

// machineState is what a node could leave behind, taken before a start and after a stop.
type machineState struct {
	Procs   []string          // processes of the node: in its cgroups, or running its binaries
	Mounts  []string          // every mount point
	Links   []string          // every network interface
	Netns   []string          // named network namespaces, and the node's own netns directory
	Cgroups []string          // every cgroup one level below a hierarchy's root
	Rules   map[string]string // iptables-save and ip6tables-save, counters dropped
	Sysctls map[string]string // the kernel settings kubelet, kube-proxy and the bridge change
}

// nodeBinaries are the programs only a node runs on these machines (the API server and etcd of
// other tests' envtest are told apart by the node's state directory in their arguments).
var nodeBinaries = map[string]bool{
	"containerd": true, "containerd-shim": true, "containerd-shim-runc-v2": true, "runc": true,
	"kubelet": true, "kube-proxy": true, "kube-scheduler": true, "coredns": true, "metrics-server": true,
	"pause": true, "echo": true, "crisweep": true,
}

var sysctls = []string{
	"kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory", "net/ipv4/ip_forward",
	"net/ipv4/conf/all/route_localnet", "net/bridge/bridge-nf-call-iptables",
}

func snapshot() (machineState, error) {
	var s machineState
	var err error
	s.Procs = nodeProcs()
	if s.Mounts, err = mountPoints(); err != nil {
		return s, err
	}
	if s.Links, err = dirNames("/sys/class/net"); err != nil {
		return s, err
	}
	s.Netns, _ = dirNames("/run/netns")
	if _, err := os.Stat(localnode.RunDir); err == nil {
		s.Netns = append(s.Netns, localnode.RunDir+" exists")
	}
	if s.Cgroups, err = cgroups(); err != nil {
		return s, err
	}
	s.Rules = map[string]string{}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, err := exec.Command(tool).Output()
		if err != nil {
			return s, fmt.Errorf("%s: %w", tool, err)
		}
		s.Rules[tool] = normaliseRules(string(out))
	}
	s.Sysctls = map[string]string{}
	for _, key := range sysctls {
		if v, err := os.ReadFile(filepath.Join("/proc/sys", key)); err == nil { //nolint:gosec // a /proc/sys file named by our own key list
			s.Sysctls[key] = strings.TrimSpace(string(v))
		}
	}
	return s, nil
}

// nodeProcs lists live processes (not zombies) of the node, by cgroup or by binary.
func nodeProcs() []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		cgroup, _ := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))   //nolint:gosec // /proc/<pid>, pid read from /proc itself
		cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline")) //nolint:gosec // /proc/<pid>, pid read from /proc itself
		exe, _ := os.Readlink(filepath.Join("/proc", pid, "exe"))
		args := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if exe == "" && args == "" {
			continue // a kernel thread or a zombie
		}
		if strings.Contains(string(cgroup), "/shortlink-node") || nodeBinaries[filepath.Base(exe)] ||
			strings.Contains(args, localnode.StateDir) || strings.Contains(args, localnode.RunDir+"/") {
			out = append(out, fmt.Sprintf("%s %s", pid, args))
		}
	}
	return out
}

func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			out = append(out, f[4])
		}
	}
	sort.Strings(out)
	return out, nil
}

func dirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, nil
}

func cgroups() ([]string, error) {
	hs, err := dirNames("/sys/fs/cgroup")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range hs {
		entries, _ := os.ReadDir(filepath.Join("/sys/fs/cgroup", h))
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, h+"/"+e.Name())
			}
		}
	}
	return out, nil
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// normaliseRules drops iptables-save's comments and packet counters, which change by themselves,
// and tables that hold nothing but their built-in chains with policy ACCEPT: with the nf_tables
// backend, listing or sweeping a table creates it empty, and an empty table filters nothing.
func normaliseRules(save string) string {
	var b, table strings.Builder
	empty := true
	for _, line := range strings.Split(save, "\n") {
		switch {
		case strings.HasPrefix(line, "#") || line == "":
			continue
		case strings.HasPrefix(line, "*"):
			table.Reset()
			empty = true
		case strings.HasPrefix(line, "-A ") || (strings.HasPrefix(line, ":") && !strings.Contains(line, " ACCEPT ")):
			empty = false
		}
		table.WriteString(counters.ReplaceAllString(line, "[0:0]") + "\n")
		if line == "COMMIT" && !empty {
			b.WriteString(table.String())
		}
	}
	return b.String()
}

// diff describes how after differs from before, field by field; empty when nothing does.
func diff(before, after machineState) []string {
	var out []string
	if len(after.Procs) > 0 {
		out = append(out, fmt.Sprintf("node processes still alive: %q", after.Procs))
	}
	for name, pair := range map[string][2][]string{
		"mounts": {before.Mounts, after.Mounts}, "links": {before.Links, after.Links},
		"netns": {before.Netns, after.Netns}, "cgroups": {before.Cgroups, after.Cgroups},
	} {
		if added, removed := setDiff(pair[0], pair[1]); len(added)+len(removed) > 0 {
			out = append(out, fmt.Sprintf("%s: added %q, removed %q", name, added, removed))
		}
	}
	for tool, rules := range before.Rules {
		if after.Rules[tool] != rules {
			out = append(out, fmt.Sprintf("%s differs:\nbefore:\n%s\nafter:\n%s", tool, rules, after.Rules[tool]))
		}
	}
	for key, v := range before.Sysctls {
		if after.Sysctls[key] != v {
			out = append(out, fmt.Sprintf("sysctl %s: %s before, %s after", key, v, after.Sysctls[key]))
		}
	}
	return out
}

// setDiff compares two lists as multisets.
func setDiff(before, after []string) (added, removed []string) {
	count := map[string]int{}
	for _, s := range before {
		count[s]++
	}
	for _, s := range after {
		count[s]--
	}
	for s, c := range count {
		for ; c < 0; c++ {
			added = append(added, s)
		}
		for ; c > 0; c-- {
			removed = append(removed, s)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}
