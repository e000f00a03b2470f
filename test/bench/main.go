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

// Command bench runs Shortlink's load benchmarks against real components started by
// internal/localenv, each scenario beside a baseline measured in the same run, prints a table
// and writes bin/bench/results.json (schema in DESIGN §6). `make bench` runs it in full;
// `make test` runs it with -smoke, small and short, so the benchmarks cannot rot — goals are
// reported but not enforced in a smoke run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	// envtest logs through controller-runtime; the bench reports what matters itself.
	logf.SetLogger(logr.Discard())
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	smoke := fs.Bool("smoke", false, "a short run that checks the benchmarks work; goals are not enforced")
	out := fs.String("out", "bin/bench/results.json", "where to write the results")
	only := fs.String("only", "", "run only the scenarios whose name contains this")
	steps := fs.String("steps", "", "run only these steps, comma-separated: the redirector's hot, realistic, redis-tier, "+
		"postgres-tier, visits, million, tail; the create API's single, batch, import")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h, err := newHarness(*smoke)
	if err != nil {
		return err
	}
	h.steps = *steps
	defer h.close()
	for _, s := range scenarios() {
		if !matches(s.name, *only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: running %s\n", s.name)
		if err := h.build(ctx, s.binaries); err != nil {
			return err
		}
		results, err := s.run(ctx, h)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		h.results = append(h.results, results...)
	}
	printTable(stdout, h.results)
	if err := writeResults(*out, h.results); err != nil {
		return err
	}
	if missed := h.missedGoals(); len(missed) > 0 && !*smoke {
		return fmt.Errorf("goals missed: %v", missed)
	}
	return nil
}
