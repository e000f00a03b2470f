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

package memlimit

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"536870912\n":           536870912,
		"max\n":                 0, // cgroup v2: no limit
		"9223372036854771712\n": 0, // cgroup v1: no limit
		"":                      0,
		"-1":                    0,
	} {
		got, ok := parse(in)
		if got != want || ok != (want != 0) {
			t.Errorf("parse(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}

// Not parallel: it sets the process's soft memory limit.
func TestSetSoft(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	noEnv := func(string) string { return "" }
	limit := func(n int64) func() (int64, bool) { return func() (int64, bool) { return n, n > 0 } }

	debug.SetMemoryLimit(math.MaxInt64)
	if got := SetSoft(noEnv, limit(512<<20)); got != 483183820 {
		t.Errorf("SetSoft under a 512 MiB limit = %d, want 90 %% of it", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 483183820 {
		t.Errorf("the runtime's limit = %d, want 483183820", got)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	if got := SetSoft(noEnv, limit(0)); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("SetSoft with no container limit = %d, want the runtime's limit left alone", got)
	}
	env := func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }
	if got := SetSoft(env, limit(512<<20)); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("SetSoft with GOMEMLIMIT set = %d, want the runtime's limit left alone", got)
	}
}
