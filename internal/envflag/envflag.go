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

// Package envflag defines command-line flags whose defaults come from environment variable
// twins (--database-url and DATABASE_URL), so a Deployment can configure the binaries either
// way. It holds flag plumbing only.
package envflag

import (
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Set defines flags on FS; a flag's twin is its name upper-cased with '-' as '_'. A twin that
// does not parse is remembered and reported by Err, after FS.Parse.
type Set struct {
	FS     *flag.FlagSet
	Getenv func(string) string
	bad    error
}

// Name is the environment twin of a flag name.
func Name(flagName string) string { return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_")) }

// Err is the first environment twin that did not parse.
func (s *Set) Err() error { return s.bad }

func (s *Set) env(name string, parse func(string) error) string {
	env := Name(name)
	if v := s.Getenv(env); v != "" {
		if err := parse(v); err != nil && s.bad == nil {
			s.bad = fmt.Errorf("environment variable %s=%q: %w", env, v, err)
		}
	}
	return " (env " + env + ")"
}

// String defines a string flag.
func (s *Set) String(p *string, name, def, usage string) {
	*p = def
	usage += s.env(name, func(v string) error { *p = v; return nil })
	s.FS.StringVar(p, name, *p, usage)
}

// Bool defines a bool flag.
func (s *Set) Bool(p *bool, name string, def bool, usage string) {
	*p = def
	usage += s.env(name, func(v string) (err error) { *p, err = strconv.ParseBool(v); return err })
	s.FS.BoolVar(p, name, *p, usage)
}

// Int defines an int flag.
func (s *Set) Int(p *int, name string, def int, usage string) {
	*p = def
	usage += s.env(name, func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
	s.FS.IntVar(p, name, *p, usage)
}

// Float64 defines a float64 flag.
func (s *Set) Float64(p *float64, name string, def float64, usage string) {
	*p = def
	usage += s.env(name, func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return err })
	s.FS.Float64Var(p, name, *p, usage)
}

// Duration defines a time.Duration flag.
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	usage += s.env(name, func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
	s.FS.DurationVar(p, name, *p, usage)
}

// Level defines a log level flag (debug, info, warn, error).
func (s *Set) Level(p *slog.Level, name string, def slog.Level, usage string) {
	*p = def
	usage += s.env(name, func(v string) error { return p.UnmarshalText([]byte(v)) })
	s.FS.TextVar(p, name, *p, usage)
}
