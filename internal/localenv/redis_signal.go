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
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// Hang stops Redis with SIGSTOP until the returned function (also run at the end of the test)
// sends SIGCONT: connections stay open and every call hangs, as in a partition or a stalled
// host, unlike Stop, which refuses them at once.
func (r *Redis) Hang(t testing.TB) (resume func()) {
	t.Helper()
	if r.proc == nil || r.proc.cmd == nil {
		t.Fatal(errors.New("hang redis: not running"))
	}
	pid := r.proc.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("hang redis: %v", err)
	}
	resumed := false
	resume = func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	return resume
}

// Kill ends Redis with SIGKILL, as a crashed node or a lost host would end, and waits for it:
// no shutdown, no goodbye to replicas or sentinels. Start brings it back on its port.
func (r *Redis) Kill() error {
	if r.proc == nil || r.proc.cmd == nil {
		return errors.New("kill redis: not running")
	}
	defer func() { r.proc.cmd = nil }()
	if err := r.proc.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill redis: %w", err)
	}
	<-r.proc.done
	return nil
}
