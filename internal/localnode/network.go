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
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// setUpNetwork creates the bridge with the node's address before anything starts, so the API
// server can bind NodeIP and the bridge plugin adopts it, routes the service range onto it (so
// a packet to a service address that kube-proxy has not programmed never follows the default
// route off the machine), and installs the node's filter rules.
func setUpNetwork() error {
	const add = "add"
	steps := [][]string{
		{"link", add, Bridge, "type", "bridge"},
		{"addr", add, NodeIP + "/24", "dev", Bridge},
		{"link", "set", Bridge, "up"},
		{"route", add, ServiceCIDR, "dev", Bridge, "src", NodeIP},
	}
	for _, args := range steps {
		if err := run("ip", args...); err != nil {
			return fmt.Errorf("network: %w", err)
		}
	}
	return installFilterRules()
}

// filterRules keep traffic inside the node's ranges, whatever kube-proxy and the bridge plugin
// add: nothing still addressed to a service address after kube-proxy's NAT (no such service,
// or none programmed yet) and nothing to a pod address that is not on the bridge; nothing
// forwarded from a pod to an address outside the pod range (pods reach the node itself, and
// through it the API server, by INPUT, not FORWARD). Traffic to this host's own addresses,
// NodeIP included, goes out through lo and passes first: it never leaves the machine.
//
// They are written as iptables-save prints them, so a test finds them verbatim.
func filterRules() []string {
	const reject = " -j REJECT --reject-with icmp-port-unreachable"
	return []string{
		"-A " + filterChain + " -o lo -j RETURN",
		"-A " + filterChain + " -d " + ServiceCIDR + reject,
		"-A " + filterChain + " -d " + PodCIDR + " ! -o " + Bridge + reject,
		"-A " + filterChain + " -s " + PodCIDR + " ! -d " + PodCIDR + reject,
	}
}

// FilterRules is what the node installs in the filter table, for tests to find in iptables-save.
func FilterRules() []string { return filterRules() }

func installFilterRules() error {
	var b strings.Builder
	b.WriteString("*filter\n:" + filterChain + " - [0:0]\n")
	for _, r := range filterRules() {
		b.WriteString(r + "\n")
	}
	b.WriteString("-I " + forwardChain + " 1 -j " + filterChain + "\n-I " + outputChain + " 1 -j " + filterChain + "\nCOMMIT\n")
	return restore("iptables-restore", b.String())
}

// pinFilterJumps moves the jumps into the node's chain back to the top of FORWARD and OUTPUT
// once kubelet and kube-proxy have put theirs in: they insert their jumps first, and
// kube-proxy's KUBE-FORWARD accepts the packets its NAT marked, wherever an EndpointSlice sends
// them. Both only check later that their jumps exist, so ours stay first after this. It fails
// (and is retried) until every one of their jumps is there: kube-proxy adds them one by one.
func pinFilterJumps() error {
	save, err := output("iptables-save", "-t", "filter")
	if err != nil {
		return err
	}
	for i, jump := range theirFilterJumps {
		if !theirJumpLines[i].Match(save) {
			return fmt.Errorf("no jump from %s to %s yet", jump[0], jump[1])
		}
	}
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, chain := range []string{forwardChain, outputChain} {
		b.WriteString("-D " + chain + " -j " + filterChain + "\n-I " + chain + " 1 -j " + filterChain + "\n")
	}
	b.WriteString("COMMIT\n")
	return restore("iptables-restore", b.String())
}

// theirFilterJumps are the jumps kube-proxy (iptables mode) and kubelet add to FORWARD and
// OUTPUT at start-up.
var theirFilterJumps = [][2]string{
	{forwardChain, "KUBE-PROXY-FIREWALL"}, {forwardChain, "KUBE-FORWARD"}, {forwardChain, "KUBE-SERVICES"},
	{forwardChain, "KUBE-EXTERNAL-SERVICES"},
	{outputChain, "KUBE-PROXY-FIREWALL"}, {outputChain, "KUBE-SERVICES"}, {outputChain, "KUBE-FIREWALL"},
}

// theirJumpLines match theirFilterJumps in iptables-save's output, compiled once: pinFilterJumps
// is retried until kube-proxy has added them all.
var theirJumpLines = func() []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(theirFilterJumps))
	for i, jump := range theirFilterJumps {
		res[i] = regexp.MustCompile(`(?m)^-A ` + jump[0] + ` .*-j ` + jump[1] + `$`)
	}
	return res
}()

// The built-in filter chains the node's chain is jumped to from.
const (
	forwardChain = "FORWARD"
	outputChain  = "OUTPUT"
)

// ownedChain matches the chains of kubelet and kube-proxy (KUBE-*), the CNI plugins (CNI-*)
// and our own. Nothing else on these machines uses those prefixes.
var ownedChain = regexp.MustCompile(`^(KUBE-|CNI-|SHORTLINK-)`)

var jumpTarget = regexp.MustCompile(` -[jg] (\S+)`)

// sweepRules removes from iptables and ip6tables every owned chain and every rule that jumps to
// one, one table at a time and nothing else: other processes' rules are never flushed.
func sweepRules() error {
	for _, tool := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(tool + "-save"); err != nil {
			continue
		}
		for _, table := range []string{"filter", "nat", "mangle", "raw"} {
			save, err := output(tool+"-save", "-t", table)
			if err != nil {
				continue // table not present on this kernel
			}
			script := sweepScript(table, save)
			if script == "" {
				continue
			}
			if err := restore(tool+"-restore", script); err != nil {
				return err
			}
		}
	}
	return nil
}

// sweepScript turns one table's iptables-save into the restore commands that delete the jumps
// into owned chains, then flush and delete those chains.
func sweepScript(table string, save []byte) string {
	var chains, deletes []string
	sc := bufio.NewScanner(bytes.NewReader(save))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			name := strings.Fields(line[1:])[0]
			if ownedChain.MatchString(name) {
				chains = append(chains, name)
			}
		case strings.HasPrefix(line, "-A "):
			chain := strings.Fields(line)[1]
			m := jumpTarget.FindStringSubmatch(line)
			if !ownedChain.MatchString(chain) && m != nil && ownedChain.MatchString(m[1]) {
				deletes = append(deletes, "-D"+strings.TrimPrefix(line, "-A"))
			}
		}
	}
	if len(chains) == 0 && len(deletes) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*" + table + "\n")
	for _, d := range deletes {
		b.WriteString(d + "\n")
	}
	for _, c := range chains {
		b.WriteString("-F " + c + "\n")
	}
	for _, c := range chains {
		b.WriteString("-X " + c + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// restore applies a script without flushing anything it does not name.
func restore(tool, script string) error {
	cmd := exec.Command(tool, "-w", "--noflush") //nolint:gosec // tool is iptables-restore or ip6tables-restore
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("network: %s: %w: %s\nscript:\n%s", tool, err, bytes.TrimSpace(out), script)
	}
	return nil
}

// sweepLinks deletes the veths on the bridge, then the bridge (its routes go with it).
func sweepLinks() error {
	if _, err := os.Stat("/sys/class/net/" + Bridge); err != nil {
		return nil
	}
	ports, _ := os.ReadDir("/sys/class/net/" + Bridge + "/brif")
	for _, p := range ports {
		if err := run("ip", "link", "del", p.Name()); err != nil && linkExists(p.Name()) {
			return fmt.Errorf("network: %w", err)
		}
	}
	if err := run("ip", "link", "del", Bridge); err != nil && linkExists(Bridge) {
		return fmt.Errorf("network: %w", err)
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}
