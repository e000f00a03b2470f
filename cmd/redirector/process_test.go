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

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// The tests that need a redirector's memory or its connections' fate run the binary as a
// process of its own, built once per test run.
var binary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// redirectorBinary builds this package into a temporary directory, once.
func redirectorBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "shortlink-redirector-test-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "redirector")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput() //nolint:gosec // our own package
		if err != nil {
			binary.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// redirectorProcess is the redirector binary running with a test's arguments.
type redirectorProcess struct {
	*localenv.Process
	addr, metricsAddr, apiAddr string
}

// startProcess runs the redirector on free loopback ports with args added, waits until it
// serves, and stops it (SIGTERM, then SIGKILL) when the test ends if the test has not.
func startProcess(t *testing.T, env *localenv.Env, name string, args ...string) *redirectorProcess {
	t.Helper()
	args = append([]string{"--listen-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"}, args...)
	p, err := env.StartProcess(name, redirectorBinary(t), args, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	r := &redirectorProcess{Process: p}
	deadline := time.Now().Add(time.Minute)
	for r.addr == "" || (r.apiAddr == "" && hasArg(args, "--api-address")) {
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s did not start serving:\n%s", name, p.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
		for _, e := range r.logEntries(t) {
			switch e.Msg {
			case "Serving":
				r.addr, r.metricsAddr = e.Address, e.MetricsAddress
			case "Serving the API":
				r.apiAddr = e.APIAddress
			}
		}
	}
	return r
}

func hasArg(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// logEntry is what the tests read of the redirector's JSON log lines.
type logEntry struct {
	Level, Msg                          string
	Address, MetricsAddress, APIAddress string
}

func (r *redirectorProcess) logEntries(t *testing.T) []logEntry {
	t.Helper()
	data, err := os.ReadFile(r.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	var entries []logEntry
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		var e logEntry
		if json.Unmarshal(line, &e) == nil && e.Msg != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// logged counts the log lines with message msg.
func (r *redirectorProcess) logged(t *testing.T, msg string) int {
	t.Helper()
	n := 0
	for _, e := range r.logEntries(t) {
		if e.Msg == msg {
			n++
		}
	}
	return n
}

// waitExit sends SIGTERM and returns the exit code, failing the test if the process has not
// exited after a generous wait.
func (r *redirectorProcess) waitExit(t *testing.T) int {
	t.Helper()
	if err := r.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { done <- r.Wait() }()
	select {
	case code := <-done:
		return code
	case <-time.After(2 * time.Minute):
		t.Fatalf("no exit two minutes after SIGTERM:\n%s", r.LogTail())
		return -1
	}
}

// peakRSS is the highest resident memory the process has had (VmHWM), in bytes.
func (r *redirectorProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", r.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", r.Pid())
	return 0
}

// eventually polls cond until it holds, failing the test after a generous timeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
