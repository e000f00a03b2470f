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

package stats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortlink-dev/shortlink/internal/store"
)

const (
	// maxAttempts bounds the retries of a batch failing for a reason that is neither
	// unavailability nor refused data (a client-side encoding error, say), so that it cannot
	// hold every later batch back forever.
	maxAttempts = 5
	// drainPause spaces the attempts of the final flush.
	drainPause = 100 * time.Millisecond
	// dropLogInterval spaces the log lines about dropped visits: the counter has every one.
	dropLogInterval = time.Minute
)

// Run flushes every FlushInterval, and sooner when BatchSize visits are waiting, until ctx
// ends. It then flushes everything held, retrying for at most ShutdownTimeout, and returns nil
// once all is written, or an error saying how many visits were not. Stop calling Record before
// ctx ends: visits recorded after Run returns stay in memory.
func (a *Aggregator) Run(ctx context.Context) error {
	ticker := time.NewTicker(a.opts.FlushInterval)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return a.drain(ctx)
		case <-ticker.C:
		case <-a.kick:
			if failing {
				continue // PostgreSQL is failing: wait for the tick rather than hammer it
			}
		}
		err := a.flushOnce(ctx)
		switch {
		case err != nil && ctx.Err() != nil: // stopping: drain says what became of the visits
		case err != nil && !failing:
			a.opts.Logger.Warn("Stats flush failed, visits held and retried every interval", "pending", a.pending(), "error", err)
		case err != nil:
			a.opts.Logger.Debug("Stats flush failed again", "pending", a.pending(), "error", err)
		case failing:
			a.opts.Logger.Info("Stats flush recovered")
		}
		failing = err != nil
		a.logDrops()
	}
}

// logDrops says, at most once every dropLogInterval, how many visits were dropped since it
// last did: Record, on the request path, only counts them.
func (a *Aggregator) logDrops() {
	dropped := a.droppedTotal()
	now := a.opts.Now()
	if dropped == a.dropsLogged || now.Before(a.nextDropLog) {
		return
	}
	a.opts.Logger.Error("Visits dropped: the bound of held visits is reached while PostgreSQL is unavailable",
		"dropped", dropped-a.dropsLogged, "droppedTotal", dropped, "pendingVisits", a.pending(),
		"pendingBytes", a.pendingBytes(), "maxPendingBytes", a.opts.MaxPendingBytes)
	a.dropsLogged, a.nextDropLog = dropped, now.Add(dropLogInterval)
}

// flushOnce is one Flush bounded by FlushTimeout.
func (a *Aggregator) flushOnce(ctx context.Context) error {
	attemptCtx, cancel := context.WithTimeout(ctx, a.opts.FlushTimeout)
	defer cancel()
	return a.Flush(attemptCtx)
}

// drain is Run's final flush: it retries until everything is written or ShutdownTimeout ends.
func (a *Aggregator) drain(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	for {
		err := a.flushOnce(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			n := a.pending()
			a.opts.Logger.Error("Final stats flush failed, visits lost", "visits", n, "error", err)
			return fmt.Errorf("final stats flush: %d visits not written: %w", n, err)
		case <-time.After(drainPause):
		}
	}
}

// Flush writes every visit recorded before the call, one transaction per batch, the batch kept
// from a failed attempt first. It stops at the first batch that fails and keeps it, with its
// id, for the next call; visits recorded meanwhile wait in later batches. A batch PostgreSQL
// refuses as data is set aside, logged and counted, and is not an error here.
func (a *Aggregator) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if a.retry != nil {
		if err := a.flushBatch(ctx, a.retry); err != nil {
			return err
		}
	}
	for range a.sealAll() {
		if err := a.flushBatch(ctx, a.pop()); err != nil {
			return err
		}
	}
	return nil
}

// flushBatch makes one attempt at writing b and settles it: released when written or set
// aside, kept as a.retry otherwise.
func (a *Aggregator) flushBatch(ctx context.Context, b *batch) error {
	start := time.Now()
	duplicate, err := a.write(ctx, b)
	a.m.duration.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		result := resultOK
		if duplicate {
			result = resultDuplicate
		}
		a.m.flushes.WithLabelValues(result).Inc()
	case retryable(b, err):
		a.m.flushes.WithLabelValues(resultError).Inc()
		a.retry = b
		return fmt.Errorf("flush stats batch %s: %w", b.id, err)
	default:
		a.m.flushes.WithLabelValues(resultRejected).Inc()
		a.m.rejected.Add(float64(len(b.visits)))
		a.opts.Logger.Error("Stats batch set aside, PostgreSQL refused it",
			"batch", b.id, "visits", len(b.visits), "attempts", b.attempts+1, "error", err)
	}
	a.retry = nil
	a.release(b)
	return nil
}

// retryable reports whether a failed attempt at b is worth repeating: never when PostgreSQL
// refused the data itself (SQLSTATE class 22, data exception, or 23, integrity constraint
// violation); always when it was unreachable, the attempt was cut short, the transaction was
// rolled back by a conflict (class 40), or the schema or a grant is not there yet (class 42, a
// redirector rolled out before the migration); a few times for anything else.
func retryable(b *batch, err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		switch pgErr.Code[:2] {
		case "22", "23":
			return false
		case "40", "42":
			return true
		}
	}
	if store.IsUnavailable(err) || errors.Is(err, context.Canceled) {
		return true
	}
	b.attempts++
	return b.attempts < maxAttempts
}
