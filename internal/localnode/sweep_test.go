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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// machine takes the node lock for a test that changes what a node owns (rules, cgroups,
// sysctls), so it never sweeps a running node's. It skips without root or the tools outside
// CI, and fails under CI=true.
func machine(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("missing %v (make install-deps, run as root)", missing)
		}
		t.Skipf("missing %v (make install-deps, run as root)", missing)
	}
	l, err := acquireLock(context.Background(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.release)
}

// TestSweepRulesRemovesOwnedChainsOnly installs rules shaped like kubelet's, kube-proxy's and
// the CNI plugins' beside a chain of someone else's, and checks that the sweep removes ours and
// every jump into them, in iptables and ip6tables, and leaves the other chain and its jump.
// The rules match only a documentation address (192.0.2.254, 2001:db8::254) and RETURN.
func TestSweepRulesRemovesOwnedChainsOnly(t *testing.T) {
	machine(t, "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save")
	for _, v := range []struct{ tool, addr string }{{"iptables", "192.0.2.254/32"}, {"ip6tables", "2001:db8::254/128"}} {
		script := strings.Join([]string{
			"*filter",
			":KUBE-FIREWALL - [0:0]", ":SHORTLINK-TEST-OTHER - [0:0]", ":OTHER-TEST - [0:0]",
			"-A KUBE-FIREWALL -d " + v.addr + " -j RETURN",
			"-A KUBE-FIREWALL -j SHORTLINK-TEST-OTHER",
			"-A INPUT -m comment --comment \"kubelet firewall\" -j KUBE-FIREWALL",
			"-A OTHER-TEST -d " + v.addr + " -j RETURN",
			"-A OUTPUT -d " + v.addr + " -j OTHER-TEST",
			"COMMIT",
			"*nat",
			":CNI-HOSTPORT-DNAT - [0:0]",
			"-A CNI-HOSTPORT-DNAT -d " + v.addr + " -j RETURN",
			"-A OUTPUT -d " + v.addr + " -g CNI-HOSTPORT-DNAT",
			"COMMIT", "",
		}, "\n")
		if err := restore(v.tool+"-restore", script); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = restore(v.tool+"-restore", "*filter\n-D OUTPUT -d "+v.addr+" -j OTHER-TEST\n-F OTHER-TEST\n-X OTHER-TEST\nCOMMIT\n")
		})
	}
	if err := sweepRules(); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, err := exec.Command(tool).Output()
		if err != nil {
			t.Fatal(err)
		}
		save := string(out)
		for _, gone := range []string{"KUBE-FIREWALL", "SHORTLINK-TEST-OTHER", "CNI-HOSTPORT-DNAT"} {
			if strings.Contains(save, gone) {
				t.Errorf("%s: %s survived the sweep:\n%s", tool, gone, save)
			}
		}
		if !strings.Contains(save, "-j OTHER-TEST") || !strings.Contains(save, ":OTHER-TEST") {
			t.Errorf("%s: the sweep removed a chain that is not the node's:\n%s", tool, save)
		}
	}
}

// TestKillAndRemoveCgroups starts a daemon that forks two children into the node's cgroups,
// then checks that the sweep's cgroup steps leave no process and no cgroup in any hierarchy.
// Like the node's daemons, which fork only after reading their configuration, the shell forks
// only once it has been moved into the cgroups: it reads a line from a FIFO that the test writes
// after start returns (a shell forking at once raced the move, and its children stayed behind).
func TestKillAndRemoveCgroups(t *testing.T) {
	machine(t, "sh", "sleep")
	if err := makeCgroups(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "joined")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{name: "forker", path: "sh", args: []string{"-c", "read _ <joined; sleep 300 & sleep 300"}, log: filepath.Join(dir, "forker.log")}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) //nolint:gosec // our FIFO in the test's temporary directory; blocks until the shell opens it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	_ = w.Close() // the shell has its line
	var pids map[int]bool
	deadline := time.Now().Add(time.Minute)
	for len(pids) < 3 && time.Now().Before(deadline) { // sh and both sleeps
		time.Sleep(50 * time.Millisecond)
		var err error
		if pids, err = cgroupProcs(); err != nil {
			t.Fatal(err)
		}
	}
	if len(pids) < 3 {
		t.Fatalf("want sh and its two children in the node's cgroups, got %v", pids)
	}
	if err := killCgroups(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := removeCgroups(time.Minute); err != nil {
		t.Fatal(err)
	}
	<-d.done
	for pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil && !zombie(pid) {
			t.Errorf("pid %d survived the cgroup sweep", pid)
		}
	}
	hs, err := hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if _, err := os.Stat(filepath.Join(h, cgroupName)); err == nil {
			t.Errorf("%s/%s survived the cgroup sweep", h, cgroupName)
		}
	}
}

// zombie reports whether pid is dead but not yet reaped (its parent's business, not ours).
func zombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	return err != nil || strings.Contains(string(stat), ") Z ")
}

// TestSysctlsRestored: the value from before the first record comes back, even when a second
// record (a start after a killed run) happens in between.
func TestSysctlsRestored(t *testing.T) {
	machine(t)
	if _, err := os.Stat(StateDir); err != nil {
		t.Cleanup(func() { _ = os.RemoveAll(StateDir) }) // the record's directory is ours to remove
	}
	const key = "kernel/panic_on_oops"
	p := filepath.Join("/proc/sys", key)
	orig, err := os.ReadFile(p) //nolint:gosec // a /proc/sys file named by a constant key
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(p, orig, 0o600) }) //nolint:gosec // a /proc/sys file named by a constant key
	if err := recordSysctls(); err != nil {
		t.Fatal(err)
	}
	changed := "1"
	if strings.TrimSpace(string(orig)) == "1" {
		changed = "0"
	}
	if err := os.WriteFile(p, []byte(changed), 0o600); err != nil { // the mode is not used
		t.Fatal(err)
	}
	if err := recordSysctls(); err != nil { // as a start after a killed run would
		t.Fatal(err)
	}
	if err := restoreSysctls(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p) //nolint:gosec // a /proc/sys file named by a constant key
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(orig)) {
		t.Errorf("%s = %s after restore, want %s", key, got, orig)
	}
	if _, err := os.Stat(sysctlRecord()); err == nil {
		t.Error("the record survived the restore")
	}
}
