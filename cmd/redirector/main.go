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

// Command redirector answers GET /{code} for Shortlink: it resolves codes from memory, Redis or
// PostgreSQL (through PgBouncer), counts visits off the request path, and exports Prometheus
// metrics on a port of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	tuneGC(os.Getenv) // the process's collector: here, not in run, which tests call in-process
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "redirector:", err)
		os.Exit(1)
	}
}

// run parses the configuration, connects and serves until ctx ends, then shuts down
// gracefully. Logs go to stdout as JSON.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseOptions(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(stdout, o.logLevel)
	d, err := connect(ctx, o, log)
	if err != nil {
		return err
	}
	defer d.close()
	return serve(ctx, o, d, log)
}
