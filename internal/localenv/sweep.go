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

package localenv

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ownerFile, in a run directory, holds "pid starttime" of the process that owns the run.
const ownerFile = "owner"

// newRunDir creates this run's directory, readable by the unprivileged servers, and records
// its owner so that a later sweep can tell whether the run is still alive.
func newRunDir() (string, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", runDirPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("create run directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // servers running as nobody must reach their subdirectories
		return "", fmt.Errorf("open run directory: %w", err)
	}
	self, err := processIdentity(os.Getpid())
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(self), 0o600); err != nil {
		return "", fmt.Errorf("record run owner: %w", err)
	}
	return dir, nil
}

// processIdentity is "pid starttime": a pid alone may have been reused by an unrelated process.
func processIdentity(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	const startTimeField = 19 // field 22 of stat, counted after the command name
	if len(fields) <= startTimeField {
		return "", fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return fmt.Sprintf("%d %s", pid, fields[startTimeField]), nil
}

// sweepStale stops the processes and removes the directories of earlier runs whose owner is
// gone. It returns how many processes it killed.
func sweepStale() int {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+"*"))
	killed := 0
	for _, dir := range dirs {
		owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not fully created yet, or not ours
		}
		pid, _, _ := strings.Cut(string(owner), " ")
		n, err := strconv.Atoi(pid)
		if err != nil {
			continue
		}
		if id, err := processIdentity(n); err == nil && id == string(owner) {
			continue // its owner is alive
		}
		killed += killMarked(dir)
		_ = os.RemoveAll(dir)
	}
	return killed
}

// killMarked kills every process that carries the marker of runDir.
func killMarked(runDir string) int {
	killed := 0
	for _, pid := range markedProcesses(runDir) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	return killed
}

// markedProcesses lists the processes whose environment carries the marker of runDir.
func markedProcesses(runDir string) []int {
	want := []byte("\x00" + markerEnv + "=" + runDir + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	var pids []int
	for _, path := range procs {
		env, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		env = append(append([]byte{0}, env...), 0)
		if !bytes.Contains(env, want) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}
