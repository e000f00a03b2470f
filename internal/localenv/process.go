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
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// markerEnv is set in the environment of every process this package starts; its value is the
// run directory, which lets a later run find and stop what a dead run left behind.
const markerEnv = "SHORTLINK_LOCALENV_RUN"

// runDirPrefix names the run directories under the system temporary directory.
const runDirPrefix = "shortlink-localenv-"

// process is one child server. It is started with a parent-death signal, so it dies with us.
type process struct {
	name    string
	path    string
	args    []string
	runDir  string
	logPath string
	// stopSignal asks the server to shut down cleanly; SIGKILL follows after stopTimeout.
	stopSignal syscall.Signal
	// unprivileged runs the server as nobody when we are root (PostgreSQL and PgBouncer refuse root).
	unprivileged bool
	// env is added to our own environment.
	env []string

	cmd  *exec.Cmd
	done chan struct{}
	// exitCode is set before done is closed.
	exitCode int
}

const stopTimeout = 15 * time.Second

func (p *process) start() error {
	if p.cmd != nil {
		return fmt.Errorf("%s is already running", p.name)
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s log: %w", p.name, err)
	}
	cmd := exec.Command(p.path, p.args...) //nolint:gosec // binaries and arguments are ours
	cmd.Dir = filepath.Dir(p.logPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(append(os.Environ(), p.env...), markerEnv+"="+p.runDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if p.unprivileged {
		cred, err := unprivilegedCredential()
		if err != nil {
			_ = logFile.Close()
			return err
		}
		cmd.SysProcAttr.Credential = cred
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		p.exitCode = cmd.ProcessState.ExitCode()
		close(done)
	}()
	return nil
}

// run starts a one-shot tool (initdb, pg_basebackup) and waits for it to end, stopping it if
// ctx ends first; a non-zero exit is an error with the end of its log.
func (p *process) run(ctx context.Context) error {
	if err := p.start(); err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = p.stop()
		return ctx.Err()
	}
	if p.exitCode != 0 {
		return fmt.Errorf("%s exited with %d:\n%s", p.name, p.exitCode, p.logTail())
	}
	return nil
}

// exited reports whether a started process has exited.
func (p *process) exited() bool {
	if p.cmd == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to exit, kills it if it does not within stopTimeout, and waits.
func (p *process) stop() error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	sig := p.stopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, stopTimeout)
}

// logTail returns the end of the process's log, for error messages.
func (p *process) logTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	const max = 2000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(bytes.TrimSpace(data))
}

// pollUntil calls check every 100ms until it succeeds or startTimeout passes, and then
// returns its last error after failure, which says what did not happen.
func pollUntil(failure string, check func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s after %s: %w", failure, startTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady polls ready until it succeeds, the process exits, or startTimeout passes.
func (p *process) waitReady(ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited during start-up; log %s:\n%s", p.name, p.logPath, p.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w; log %s:\n%s", p.name, startTimeout, err, p.logPath, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unprivilegedCredential is nobody's uid and gid.
func unprivilegedCredential() (*syscall.Credential, error) {
	uid, gid, err := nobody()
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uid, Gid: gid, NoSetGroups: true}, nil
}

func nobody() (uid, gid uint32, err error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, fmt.Errorf("look up user nobody to run servers that refuse root: %w", err)
	}
	id, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("parse uid of nobody: %w", err)
	}
	g, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("parse gid of nobody: %w", err)
	}
	return uint32(id), uint32(g), nil
}

// ownDir creates an empty dir and, when we are root, hands it to nobody, so that an
// unprivileged server can write there.
func ownDir(dir string, unprivileged bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !unprivileged || os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := nobody()
	if err != nil {
		return err
	}
	return os.Lchown(dir, int(uid), int(gid))
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ErrMissingBinary means a server binary is not installed; the message says how to install it.
var ErrMissingBinary = errors.New("missing binary")

// findBinary looks for name in the given directories, then on PATH.
func findBinary(name, install string, dirs ...string) (string, error) {
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%w: %s not found; %s", ErrMissingBinary, name, strings.TrimSpace(install))
}
