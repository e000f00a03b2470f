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
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Shared is one Env for a whole test package, started by the first test that asks for it — so
// tests that need none (parsing, fuzzing) run without it — and stopped by RunTests after the
// last test.
type Shared struct {
	// Options choose the components, as for Start.
	Options Options

	once sync.Once
	env  *Env
	err  error
}

// Env returns the shared Env, starting it on first use. When it cannot start, the test ends
// as Unavailable says: skipped on a developer's machine for a missing binary, failed in CI.
func (s *Shared) Env(t testing.TB) *Env {
	t.Helper()
	s.once.Do(func() { s.env, s.err = Start(context.Background(), s.Options) })
	if s.err != nil {
		Unavailable(t, s.err)
	}
	return s.env
}

// RunTests runs a package's tests, then stops the shared Env if a test started it; a failed
// stop fails the run. Use it as TestMain: os.Exit(localenv.RunTests(m, &shared)).
func RunTests(m *testing.M, s *Shared) int {
	code := m.Run()
	if s.env != nil {
		if err := s.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop local environment:", err)
			code = 1
		}
	}
	return code
}
