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

// Command manager runs the ShortLink operator: it syncs ShortLinks into PostgreSQL and Redis
// and, as leader, runs the visits rollup, partition maintenance and garbage collection.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
)

func main() {
	ctx := ctrl.SetupSignalHandler()
	// Here, not in run, which tests call in-process.
	tuneGC(os.Getenv)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logOpts := bindLogFlags(fs)
	opts, err := parseOptions(args, getenv, fs)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctrl.SetLogger(newLogger(logOpts, stderr))
	// The probes answer before PostgreSQL does: waiting for it or migrating is alive, not ready.
	probes, err := serveProbes(opts.probeAddr)
	if err != nil {
		return err
	}
	defer probes.close()
	deps, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer deps.close()
	probes.readyWhen(deps.ping)
	mgr, err := newManager(ctx, opts, deps)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}
