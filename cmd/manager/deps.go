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
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/redis/go-redis/v9"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// deps are the manager's connections to PostgreSQL and Redis.
type deps struct {
	store *store.Store
	redis redis.UniversalClient
	cache *cache.Cache
}

// ping is readiness once migrated: without PostgreSQL nothing can be reconciled.
func (d *deps) ping(r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	return d.store.Ping(ctx)
}

func (d *deps) close() {
	if d.store != nil {
		d.store.Close()
	}
	if d.redis != nil {
		_ = d.redis.Close()
	}
}

// connect migrates the schema and opens the pools. PostgreSQL may not be up yet when the
// manager starts (a fresh cluster, a restore): it waits, logging each attempt, rather than
// crash-looping, while the probes already answer (alive, not ready). Redis is not waited for:
// it only caches, and reconciles report Cached=False.
func connect(ctx context.Context, o options) (*deps, error) {
	log := ctrl.Log.WithName("setup")
	for attempt := 1; ; attempt++ {
		err := store.Migrate(ctx, o.databaseURL)
		if err == nil {
			break
		}
		if !store.IsUnavailable(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("migrate database: %w", err)
		}
		log.Info("PostgreSQL unavailable; waiting to migrate", "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Duration(attempt)*time.Second, 15*time.Second)):
		}
	}
	st, err := store.Open(ctx, o.databaseURL, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	rdb, err := cache.NewUniversalClient(o.redisURL, cache.ClientOptions{Name: "shortlink-manager"})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return &deps{store: st, redis: rdb, cache: cache.New(rdb, cache.Options{})}, nil
}

func bindLogFlags(fs *flag.FlagSet) *zap.Options {
	opts := &zap.Options{Development: false}
	opts.BindFlags(fs)
	return opts
}

// newLogger returns the manager's logger; go-redis's own lines go to it too, at debug level.
func newLogger(opts *zap.Options, w io.Writer) logr.Logger {
	log := zap.New(zap.UseFlagOptions(opts), zap.WriteTo(w))
	cache.LogTo(slog.New(logr.ToSlogHandler(log)))
	return log
}
