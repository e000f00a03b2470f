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
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// daemon is one of the node's long-running processes. It runs in the node's daemons cgroup, so
// that a sweep finds it, and everything it forks (containerd's shims), after a killed run.
type daemon struct {
	name string
	path string
	args []string
	log  string

	cmd  *exec.Cmd
	done chan struct{}
}

// daemonStopTimeout bounds a graceful stop; SIGKILL follows.
const daemonStopTimeout = 20 * time.Second

func (d *daemon) start() error {
	logFile, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) //nolint:gosec // LogDir outlives the node for a person to read
	if err != nil {
		return fmt.Errorf("open %s log: %w", d.name, err)
	}
	cmd := exec.Command(d.path, d.args...) //nolint:gosec // binaries and arguments are ours
	cmd.Dir = filepath.Dir(d.log)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The parent-death signal stops the daemon if the test process dies; its children (shims,
	// containers) are left to the next start's sweep of the cgroups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	d.cmd, d.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(d.done)
	}()
	// Joined right after start: the daemons fork nothing before they have read their config.
	if err := joinCgroups(cmd.Process.Pid); err != nil {
		_ = d.stop()
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}

func (d *daemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL to the daemon's process group after daemonStopTimeout.
func (d *daemon) stop() error {
	if d.cmd == nil {
		return nil
	}
	defer func() { d.cmd = nil }()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(daemonStopTimeout):
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
	return fmt.Errorf("%s did not stop within %s and was killed", d.name, daemonStopTimeout)
}

// logTail is the end of the daemon's log, for error messages.
func (d *daemon) logTail() string {
	data, err := os.ReadFile(d.log)
	if err != nil {
		return ""
	}
	const max = 3000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(bytes.TrimSpace(data))
}

// waitFor polls ready until it succeeds, the daemon exits, or timeout passes.
func (d *daemon) waitFor(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if !d.running() {
			return fmt.Errorf("%s exited during start-up; log %s:\n%s", d.name, d.log, d.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w; log %s:\n%s", d.name, timeout, err, d.log, d.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// run runs a short command and returns its combined output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput() //nolint:gosec // commands are ours
	if err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(out))
	}
	return nil
}

// output runs a short command and returns its standard output.
func output(name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...) //nolint:gosec // commands are ours
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

var errNotReady = errors.New("not ready yet")
