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
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Renice sets the CPU niceness of PostgreSQL, PgBouncer and Redis, as started, and of every
// process they have started: PostgreSQL's auxiliary processes and backends. In a cluster these
// servers run on other machines; a benchmark of the redirector's latency can then keep them
// from taking the cores it shares with them here. Raising niceness needs no privilege;
// lowering it again does (root).
//
// With the kernel's autogroups on (sched_autogroup_enabled, as on this project's machines), a
// process's niceness weighs only against processes of its own session, and each PostgreSQL
// child starts a session of its own (setsid): for those, Renice sets the niceness of their
// autogroup too (/proc/<pid>/autogroup), which is what weighs against the caller's processes.
// A backend forked later inherits its postmaster's niceness but starts an autogroup at the
// default: call Renice again once the connections a measurement uses are open.
func (e *Env) Renice(nice int) error {
	var errs []error
	for _, p := range []*process{e.postgresProc(), e.pgbouncerProc(), e.redisProc()} {
		if p == nil || p.cmd == nil {
			continue
		}
		errs = append(errs, reniceTree(p.cmd.Process.Pid, nice))
	}
	return errors.Join(errs...)
}

func (e *Env) postgresProc() *process {
	if e.Postgres == nil {
		return nil
	}
	return e.Postgres.proc
}

func (e *Env) pgbouncerProc() *process {
	if e.PgBouncer == nil {
		return nil
	}
	return e.PgBouncer.proc
}

func (e *Env) redisProc() *process {
	if e.Redis == nil {
		return nil
	}
	return e.Redis.proc
}

// reniceTree renices pid and its descendants. PostgreSQL's children make themselves process
// group leaders (setsid), so a process group would not reach them: they are found by parent.
func reniceTree(pid, nice int) error {
	children, err := childrenByParent()
	if err != nil {
		return err
	}
	var errs []error
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[0]
		todo = append(todo[1:], children[p]...)
		// A process that exited meanwhile has nothing left to renice.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, p, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("renice %d: %w", p, err))
		}
		errs = append(errs, reniceAutogroup(p, nice))
	}
	return errors.Join(errs...)
}

// reniceAutogroup sets the niceness of pid's autogroup when it is not the caller's own: ours
// holds the processes being measured, which must keep their priority.
func reniceAutogroup(pid, nice int) error {
	path := "/proc/" + strconv.Itoa(pid) + "/autogroup"
	theirs, err := autogroupOf(path)
	if err != nil {
		return nil // autogroups off, or the process is gone: nothing to do
	}
	ours, err := autogroupOf("/proc/self/autogroup")
	if err != nil || ours == theirs {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(nice)), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("renice the autogroup of %d: %w", pid, err)
	}
	return nil
}

// autogroupOf reads which autogroup a /proc/<pid>/autogroup names: "/autogroup-29160 nice 0".
func autogroupOf(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(string(data), " ")
	return name, nil
}

// childrenByParent maps each running process to its children, from /proc.
func childrenByParent() (map[int][]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := make(map[int][]int)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	return children, nil
}

// parentOf reads a process's parent from /proc/<pid>/stat: the fourth field, after the
// command name in parentheses (which may itself hold spaces and parentheses).
func parentOf(pid int) (int, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}
