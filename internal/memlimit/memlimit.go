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

// Package memlimit reads the memory limit of the process's container and sets the Go
// runtime's soft memory limit under it, so the collector works harder before the kernel kills
// the process rather than after, and sets the collector's target of a binary beside it.
package memlimit

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the container's limit the soft limit takes: the rest is the binary,
// goroutine stacks outside the heap's accounting, and what the kernel counts that Go does not.
const Share = 0.9

// Container is the memory limit of the process's cgroup (v2, else v1), if it has one.
func Container() (int64, bool) {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil { //nolint:gosec // fixed cgroup paths
			return parse(string(b))
		}
	}
	return 0, false
}

// parse reads a cgroup memory limit file: "max" (v2) or a number so large it means none (v1)
// is no limit.
func parse(s string) (int64, bool) {
	limit, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || limit <= 0 || limit >= 1<<60 {
		return 0, false
	}
	return limit, true
}

// SetSoft sets the runtime's soft memory limit to Share of container's limit, unless
// GOMEMLIMIT is set (the runtime has then read it) or container reports none. It returns the
// limit it set, or 0.
func SetSoft(getenv func(string) string, container func() (int64, bool)) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit, ok := container()
	if !ok {
		return 0
	}
	soft := int64(float64(limit) * Share)
	debug.SetMemoryLimit(soft)
	return soft
}

// Tune sets a binary's collector: gcPercent as its target unless GOGC is set, and, unless
// GOMEMLIMIT is set, the soft limit under the container's (SetSoft), which holds the heap below
// the container's limit whatever the target lets it grow to.
func Tune(getenv func(string) string, gcPercent int) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	SetSoft(getenv, Container)
}
