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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// cniCacheDir is where libcni (inside containerd) caches each attachment's result; it is the
// machine's, so only our network's files go.
const cniCacheDir = "/var/lib/cni"

// sweep removes everything a node made, whether it stopped cleanly or was killed: processes
// (by cgroup), mounts, links, iptables and ip6tables rules, CNI state, cgroups, the state trees,
// and restores the kernel settings. Sandboxes are removed through the CRI before this, while
// containerd still runs (Stop); after a kill, killing the cgroups and unmounting does it.
// Every step runs even if one before failed; the errors are joined.
func sweep() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(killCgroups(30 * time.Second))
	add(unmountAll(30 * time.Second))
	add(sweepLinks())
	add(sweepRules())
	add(sweepCNICache())
	add(removeCgroups(30 * time.Second))
	add(restoreSysctls())
	if len(mountsUnder(StateDir, RunDir)) == 0 {
		// Only with nothing mounted below: a hostPath bind left mounted would be emptied.
		add(os.RemoveAll(RunDir))
		add(os.RemoveAll(StateDir))
	} else {
		add(fmt.Errorf("sweep: mounts remain under %s or %s; not removing them", StateDir, RunDir))
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points at or below the given directories, deepest first.
func mountsUnder(dirs ...string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }() // read-only
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		for _, d := range dirs {
			if mp == d || strings.HasPrefix(mp, d+"/") {
				out = append(out, mp)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i], "/") > strings.Count(out[j], "/") })
	return out
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline and backslash.
func unescapeMount(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// unmountAll detaches every mount below the state trees (overlay root filesystems, shm,
// volumes, network namespaces, kubelet's bind mount of its root) until none is left: mounts
// can be stacked, and a detached parent reveals the ones below it.
func unmountAll(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		mounts := mountsUnder(StateDir, RunDir)
		if len(mounts) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sweep: still mounted after %s: %v", timeout, mounts)
		}
		for _, m := range mounts {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sweepCNICache removes libcni's cached results for our network, and the cache directories
// if that leaves them empty (nothing else on these machines uses CNI).
func sweepCNICache() error {
	results := filepath.Join(cniCacheDir, "results")
	entries, _ := os.ReadDir(results)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), cniNetwork+"-") {
			if err := os.Remove(filepath.Join(results, e.Name())); err != nil {
				return fmt.Errorf("sweep: %w", err)
			}
		}
	}
	for _, d := range []string{results, cniCacheDir} {
		_ = syscall.Rmdir(d) // fails, as it should, when something else is in it
	}
	return nil
}
