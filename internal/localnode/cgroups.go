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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where cgroup v1 hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// hierarchies lists the mounted cgroup hierarchies: every v1 one (systemd's named one included:
// kubelet needs its cgroupRoot in every one) and, on a hybrid machine, the v2 "unified" mount,
// where runc mirrors each container's cgroup, so a sweep must look there too.
func hierarchies() ([]string, error) {
	entries, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(cgroupRoot, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// makeCgroups creates the node's cgroup and its daemons child in every hierarchy. cpuset
// children start with no cpus or mems, and a cgroup without them refuses every process, so
// they are copied from the parent.
func makeCgroups() error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		for _, dir := range []string{filepath.Join(h, cgroupName), filepath.Join(h, cgroupName, "daemons")} {
			if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // a cgroup directory, readable by all like the rest of the hierarchy
				return fmt.Errorf("cgroups: %w", err)
			}
			if filepath.Base(h) == "cpuset" {
				if err := inheritCpuset(dir); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func inheritCpuset(dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, _ := os.ReadFile(filepath.Join(dir, f)) //nolint:gosec // a cgroup file under our own hierarchy and constant names
		if strings.TrimSpace(string(cur)) != "" {
			continue
		}
		parent, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f)) //nolint:gosec // a cgroup file under our own hierarchy and constant names
		if err != nil {
			return fmt.Errorf("cgroups: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), parent, 0o644); err != nil { //nolint:gosec // a cgroup file: the mode is not used
			return fmt.Errorf("cgroups: set %s: %w", f, err)
		}
	}
	return nil
}

// joinCgroups moves a process into the daemons cgroup of every hierarchy.
func joinCgroups(pid int) error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		procs := filepath.Join(h, cgroupName, "daemons", "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0o644); err != nil { //nolint:gosec // a cgroup file
			return fmt.Errorf("cgroups: join %s: %w", procs, err)
		}
	}
	return nil
}

// cgroupProcs is every pid in the node's cgroups, in any hierarchy.
func cgroupProcs() (map[int]bool, error) {
	hs, err := hierarchies()
	if err != nil {
		return nil, err
	}
	pids := map[int]bool{}
	for _, h := range hs {
		for _, dir := range cgroupDirs(filepath.Join(h, cgroupName)) {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")) //nolint:gosec // a cgroup file under our own cgroup
			if err != nil {
				continue // removed meanwhile
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids[pid] = true
				}
			}
		}
	}
	return pids, nil
}

// cgroupDirs is root and every cgroup below it, deepest first.
func cgroupDirs(root string) []string {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// killCgroups kills every process in the node's cgroups until none is left. Cgroup v1 has no
// cgroup.kill, so it walks cgroup.procs; a frozen or forking process may need a few rounds.
func killCgroups(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids, err := cgroupProcs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %d processes still alive after %s", len(pids), timeout)
		}
		thaw()
		for pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// thaw unfreezes the node's freezer cgroups: a frozen process cannot die of SIGKILL.
func thaw() {
	for _, dir := range cgroupDirs(filepath.Join(cgroupRoot, "freezer", cgroupName)) {
		_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0o644) //nolint:gosec // a cgroup file
	}
}

// removeCgroups removes the node's cgroups bottom-up in every hierarchy, once they are empty.
func removeCgroups(timeout time.Duration) error {
	hs, err := hierarchies()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, h := range hs {
			for _, dir := range cgroupDirs(filepath.Join(h, cgroupName)) {
				if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
					left = append(left, dir)
				}
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: cannot remove %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
