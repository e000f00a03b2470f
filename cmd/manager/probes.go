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
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// errNotMigrated is what /readyz answers until the schema is migrated.
var errNotMigrated = errors.New("waiting for PostgreSQL to be migrated")

// probes serves /healthz and /readyz from the first second of the process (DESIGN §4).
// controller-runtime's own probe server starts only with the manager, and the manager can only
// be built once PostgreSQL is migrated: behind it, a database outage or a long migration at
// start-up went unanswered and the liveness probe killed the pod. So the manager gets none and
// this one serves throughout, with the same handlers and the same answers.
type probes struct {
	srv *http.Server
	// ready is nil until the schema is migrated, then the check readiness runs.
	ready atomic.Pointer[healthz.Checker]
}

// serveProbes listens on addr at once (so a bad address fails start-up) and serves until
// close. An empty or "0" address disables it, as it does controller-runtime's.
func serveProbes(addr string) (*probes, error) {
	p := &probes{}
	if addr == "" || addr == "0" {
		return p, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for probes: %w", err)
	}
	mux := http.NewServeMux()
	handle(mux, "/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}})
	handle(mux, "/readyz", &healthz.Handler{Checks: map[string]healthz.Checker{"database": p.checkReady}})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// handle mounts h at path and its subpaths (/readyz/database), as controller-runtime does.
func handle(mux *http.ServeMux, path string, h http.Handler) {
	mux.Handle(path, http.StripPrefix(path, h))
	mux.Handle(path+"/", http.StripPrefix(path, h))
}

// readyWhen makes /readyz answer with check from now on; call it once migrated.
func (p *probes) readyWhen(check healthz.Checker) { p.ready.Store(&check) }

func (p *probes) checkReady(r *http.Request) error {
	check := p.ready.Load()
	if check == nil {
		return errNotMigrated
	}
	return (*check)(r)
}

// close stops serving; the process is on its way out.
func (p *probes) close() {
	if p.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
}
