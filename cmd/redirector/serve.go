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
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// The redirect listener's limits on a connection: a request head must arrive within
// headerTimeout, and a connection idle between requests is closed after idleTimeout. The API's
// own listener has the same.
const (
	headerTimeout = 5 * time.Second
	idleTimeout   = 2 * time.Minute
)

// serve runs the redirect and metrics servers and the resolver's invalidation until ctx ends,
// then stops gracefully within --shutdown-timeout (see shutdown); the caller closes the pools.
func serve(ctx context.Context, o options, d *deps, log *slog.Logger) error {
	var ready atomic.Bool
	app := &http.Server{ //nolint:gosec // ConnGuard sets the header and idle limits
		Handler: redirect.NewServer(redirect.Deps{
			Links: d.resolver, Visits: d.visitRecorder(), Metrics: d.metrics, Logger: log, Ready: ready.Load,
			API: redirectorAPI(o, d), Domains: d.domains, VisitCounter: d.visitCounter(), VisitSeeds: d.lookups,
			Countries: d.countries(),
			Config: redirect.Config{
				Site: o.site, NotFoundURL: o.notFoundURL,
				UnknownHostURL: o.unknownHostURL, PermanentMaxAge: o.permanentMaxAge,
			},
		}),
	}
	// The guard stands in for ReadHeaderTimeout and IdleTimeout, at a fraction of their cost
	// per request (see ConnGuard).
	guard := redirect.NewConnGuard(headerTimeout, idleTimeout, 250*time.Millisecond)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{Registry: d.registry}))
	if o.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	}
	metrics := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	appLn, metricsLn, err := listen(ctx, o)
	if err != nil {
		return err
	}
	apiLn, err := listenAPI(ctx, o, d)
	if err != nil {
		_, _ = appLn.Close(), metricsLn.Close()
		return err
	}
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { d.resolver.Run(bg, subscribe(bg, d)) })
	wg.Go(func() { guard.Run(bg) })
	flushed := runVisits(bg, d, log)
	errs := make(chan error, 3)
	go func() { errs <- app.Serve(guard.Guard(app, appLn)) }()
	go func() { errs <- metrics.Serve(metricsLn) }()
	stopAPI := serveAPI(apiLn, o, d, log, errs)
	ready.Store(true)
	log.Info("Serving", "address", appLn.Addr().String(), "metricsAddress", metricsLn.Addr().String())

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("Shutting down", "timeout", o.shutdownTimeout)
	case serveErr = <-errs:
		log.Error("Server failed; shutting down", "error", serveErr)
	}
	err = shutdown(o, &ready, []stopper{app.Shutdown, stopAPI}, metrics, log, func() error {
		stopBg()
		return <-flushed
	})
	wg.Wait()
	return errors.Join(serveErr, err)
}

// stopper stops a server gracefully by ctx's deadline: http.Server.Shutdown.
type stopper func(ctx context.Context) error

func listen(ctx context.Context, o options) (app, metrics net.Listener, err error) {
	var lc net.ListenConfig
	if app, err = lc.Listen(ctx, "tcp", o.listenAddr); err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", o.listenAddr, err)
	}
	if metrics, err = lc.Listen(ctx, "tcp", o.metricsAddr); err != nil {
		_ = app.Close()
		return nil, nil, fmt.Errorf("listen on %s: %w", o.metricsAddr, err)
	}
	return app, metrics, nil
}

// subscribe starts the pub/sub fast path, or returns nil without Redis (the change feed alone).
func subscribe(ctx context.Context, d *deps) redirect.Subscription {
	if d.cache == nil {
		return nil
	}
	return d.cache.Subscribe(ctx)
}

// runVisits runs the visit aggregator until ctx ends; its final flush is reported on the
// returned channel.
func runVisits(ctx context.Context, d *deps, log *slog.Logger) <-chan error {
	done := make(chan error, 1)
	if d.visits == nil {
		done <- nil
		return done
	}
	go func() {
		err := d.visits.Run(ctx)
		if err != nil {
			log.Error("Visits not all flushed before exit", "error", err)
		}
		done <- err
	}()
	return done
}

// shutdown takes the pod out of rotation, lets in-flight requests finish, flushes every
// counted visit (stopBackground ends the aggregator, whose Run flushes before returning), then
// stops serving metrics last, so the final counts can still be scraped while draining.
//
// The whole stop fits in --shutdown-timeout, which the pod's terminationGracePeriodSeconds
// covers beyond its preStop pause: the delay and the drain of requests (a head still arriving
// takes up to headerTimeout, an API request up to --api-read-timeout) share the first part,
// the final flush has the rest (flushBudget). The servers drain side by side.
func shutdown(o options, ready *atomic.Bool, servers []stopper, metrics *http.Server, log *slog.Logger, stopBackground func() error) error {
	ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	drainCtx, cancelDrain := context.WithTimeout(ctx, o.shutdownTimeout-o.flushBudget())
	defer cancelDrain()
	if o.shutdownDelay > 0 {
		select {
		case <-time.After(o.shutdownDelay):
		case <-drainCtx.Done():
		}
	}
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, stop := range servers {
		wg.Go(func() { errs[i] = stop(drainCtx) })
	}
	wg.Wait()
	err := errors.Join(errs...)
	if err != nil {
		log.Error("In-flight requests did not finish in time", "error", err)
	}
	flushErr := stopBackground()
	return errors.Join(err, flushErr, metrics.Shutdown(ctx))
}
