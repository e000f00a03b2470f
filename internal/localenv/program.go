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
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Process is a program of ours — the manager, the redirector — run the way the servers are: a
// child with a parent-death signal and this run's marker, its output in a log file under the
// run directory. `make dev`, whole-platform tests and benchmarks use it.
type Process struct {
	p   *process
	pid int
}

// StartProcess starts path with args; env is added to the current environment.
func (e *Env) StartProcess(name, path string, args, env []string) (*Process, error) {
	dir := filepath.Join(e.RunDir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	p := &process{name: name, path: path, args: args, env: env, runDir: e.RunDir, logPath: filepath.Join(dir, name+".log")}
	if err := p.start(); err != nil {
		return nil, err
	}
	return &Process{p: p, pid: p.cmd.Process.Pid}, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.pid }

// LogPath is where its standard output and error go.
func (p *Process) LogPath() string { return p.p.logPath }

// LogTail is the end of its log, for error messages.
func (p *Process) LogTail() string { return p.p.logTail() }

// Exited reports whether it has exited.
func (p *Process) Exited() bool { return p.p.exited() }

// Signal sends sig, e.g. SIGTERM to test a graceful stop.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(p.pid, sig) }

// Wait waits for the process to exit and returns its exit code.
func (p *Process) Wait() int {
	<-p.p.done
	return p.p.exitCode
}

// Stop sends SIGTERM, kills it if it does not exit in time, and waits.
func (p *Process) Stop() error { return p.p.stop() }
