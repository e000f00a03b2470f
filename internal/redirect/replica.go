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

package redirect

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// ReplicaTier is a streaming replica of the primary that the resolver's lookups go to:
// *store.Store opened on the replica's URL.
type ReplicaTier interface {
	Lookup(ctx context.Context, domain, code string) (links.Link, error)
	// WALPosition is how far the replica has replayed the primary's WAL (store.WALPosition).
	WALPosition(ctx context.Context) (int64, error)
}

// A replica may lag behind the primary, so its answers are checked before they are served:
//
//   - A row below the key's version floor is older than a change this redirector has seen: the
//     primary is asked instead. The floor is read after the replica answered, so a change
//     announced during the read counts too.
//   - A code the replica does not have (or has deleted) may have been created, or revived, on
//     the primary since: the primary is asked, still within the miss admission control
//     (fromDBAdmitted), and the negative cache keeps a flood of unknown codes to one lookup per
//     code and TTL on each server.
//   - A replica whose lookup fails is skipped at once, until the next check finds it healthy,
//     and the lookup is made on the primary: its failure never fails a request.
//   - A replica that lags by more than Options.ReplicaMaxLag is skipped until it catches up.
//     Floors last FloorTTL after a change is seen; the bound keeps the replica's lag below that
//     (Options.withDefaults lengthens FloorTTL beyond ReplicaMaxLag + ReplicaCheckInterval), so
//     by the time a floor expires a replica still in use has replayed the change it guarded.
//
// A change the redirector has not seen yet (its poll is at most PollInterval behind) may be
// read old from a replica within the bound, as it may be read old from Redis today.

// newReplica builds the resolver's replica; primary must tell the primary's WAL position
// (*store.Store does, with WALPosition).
func newReplica(tier ReplicaTier, primary DBTier, f promauto.Factory) *replica {
	wal, ok := primary.(interface {
		WALPosition(ctx context.Context) (int64, error)
	})
	if !ok {
		panic(fmt.Sprintf("redirect: a replica needs the primary's WAL position, which %T does not tell", primary))
	}
	return &replica{tier: tier, primary: wal.WALPosition, lag: &lagMeter{}, state: replicaDown, metrics: newReplicaMetrics(f)}
}

// fromReplica is the PostgreSQL tier with a replica: the replica if it is usable and its answer
// is as new as the floor, else the primary.
func (r *Resolver) fromReplica(k key) (links.Link, error) {
	rep := r.replica
	if !rep.usable.Load() {
		rep.metrics.lookups[replicaSkipped].Inc()
		return r.fromPrimary(k)
	}
	l, err := rep.tier.Lookup(r.dbDeadline.context(), k.domain, k.code)
	var res replicaResult
	switch {
	case err == nil && l.Version >= r.guard.floor(k):
		rep.metrics.lookups[replicaServed].Inc()
		r.metrics.cacheRequest(tierDB, outcomeHit)
		return l, nil
	case err == nil:
		res = replicaStale
	case errors.Is(err, links.ErrNotFound):
		res = replicaMissing
	default:
		res = replicaFailed
		rep.failed(r, err)
	}
	rep.metrics.lookups[res].Inc()
	return r.fromPrimary(k)
}

// replicaResult is the label of shortlink_replica_lookups_total: what became of a lookup the
// replica could have answered.
type replicaResult uint8

const (
	replicaServed  replicaResult = iota // the replica's row was served
	replicaStale                        // below the key's floor: read again on the primary
	replicaMissing                      // not on the replica: looked up on the primary
	replicaFailed                       // the replica failed: looked up on the primary
	replicaSkipped                      // the replica is down or lagging: the primary
	numReplicaResults
)

var replicaResultNames = [numReplicaResults]string{"served", "stale", "missing", "failed", "skipped"}

// replicaState is the label of shortlink_replica_state.
type replicaState uint8

const (
	replicaOK replicaState = iota
	replicaLagging
	replicaDown
	numReplicaStates
)

var replicaStateNames = [numReplicaStates]string{"ok", "lagging", "down"}

// replica is the resolver's read replica and what its checks have found.
type replica struct {
	tier    ReplicaTier
	primary func(ctx context.Context) (int64, error)
	// usable says lookups may go to the replica: the last check found it up and within the
	// bound, and no lookup has failed since. It starts false: nothing is known before a check.
	usable  atomic.Bool
	lag     *lagMeter
	metrics *replicaMetrics
	// state is the last check's finding; only the checking goroutine touches it.
	state replicaState
}

// failed takes the replica out of use after a failed lookup, until a check finds it healthy.
func (rep *replica) failed(r *Resolver, err error) {
	if rep.usable.Swap(false) {
		r.log.Warn("PostgreSQL replica lookup failed; using the primary until it answers again", "error", err)
	}
}

// watchReplica checks the replica every ReplicaCheckInterval until ctx ends.
func (r *Resolver) watchReplica(ctx context.Context) {
	t := time.NewTicker(r.opts.ReplicaCheckInterval)
	defer t.Stop()
	for {
		r.checkReplica(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkReplica reads the primary's WAL position, then the replica's, and decides whether the
// replica may serve. The primary is read first: a replica that has replayed what the primary
// had written a moment before is caught up. While the primary cannot be read, the replica is
// judged by the positions already taken, so it keeps serving lookups through a primary outage.
func (r *Resolver) checkReplica(ctx context.Context) {
	rep := r.replica
	now := r.opts.Now()
	if pos, err := callWAL(ctx, rep.primary, r.opts.DBTimeout); err == nil {
		rep.lag.sample(now, pos)
	}
	replayed, err := callWAL(ctx, rep.tier.WALPosition, r.opts.DBTimeout)
	if ctx.Err() != nil {
		return
	}
	state := replicaDown
	if err == nil {
		lag := rep.lag.behind(now, replayed)
		rep.metrics.lag.Set(lag.Seconds())
		state = replicaOK
		if lag > r.opts.ReplicaMaxLag {
			state = replicaLagging
		}
	}
	rep.usable.Store(state == replicaOK)
	if state != rep.state {
		r.logReplicaState(rep.state, state, err)
	}
	rep.state = state
	for s := range numReplicaStates {
		rep.metrics.state[s].Set(boolFloat(s == state))
	}
}

// callWAL reads a WAL position with a deadline of its own, so a primary that hangs does not
// take the replica's check down with it.
func callWAL(ctx context.Context, f func(context.Context) (int64, error), timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(ctx)
}

func (r *Resolver) logReplicaState(from, to replicaState, err error) {
	attrs := []any{"from", replicaStateNames[from], "to", replicaStateNames[to], "lagSeconds", r.replica.lag.last.Seconds()}
	switch to {
	case replicaOK:
		r.log.Info("PostgreSQL replica in use for lookups", attrs...)
	case replicaLagging:
		r.log.Warn("PostgreSQL replica lags beyond the bound; lookups use the primary", append(attrs, "maxLag", r.opts.ReplicaMaxLag)...)
	default:
		r.log.Warn("PostgreSQL replica unavailable; lookups use the primary", append(attrs, "error", err)...)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lagMeter measures a replica's lag in time from positions in bytes: it keeps the primary's
// WAL positions with when they were read, and the lag is the age of the oldest one the replica
// has not replayed yet. An idle primary writes nothing, so a replica that has replayed all it
// wrote has no lag however old its last write is (pg_last_xact_replay_timestamp would age). The
// measure runs late by at most one check interval.
type lagMeter struct {
	samples []walSample // oldest first, positions increasing
	last    time.Duration
}

type walSample struct {
	at  time.Time
	pos int64
}

// maxWALSamples bounds the memory of a replica that stops replaying: about a quarter of an
// hour of checks, far beyond any bound on lag, after which samples are merged.
const maxWALSamples = 1024

func (m *lagMeter) sample(at time.Time, pos int64) {
	if n := len(m.samples); n > 0 && pos <= m.samples[n-1].pos {
		return // nothing written since the last sample
	}
	if len(m.samples) == maxWALSamples {
		// Merge the two oldest into one that keeps the older time and the newer position, so
		// the lag is never understated.
		m.samples[1].at = m.samples[0].at
		m.samples = m.samples[1:]
	}
	m.samples = append(m.samples, walSample{at: at, pos: pos})
}

// behind drops the samples the replica has replayed and returns the age of the oldest left.
func (m *lagMeter) behind(now time.Time, replayed int64) time.Duration {
	i := 0
	for i < len(m.samples) && m.samples[i].pos <= replayed {
		i++
	}
	m.samples = append(m.samples[:0], m.samples[i:]...)
	m.last = 0
	if len(m.samples) > 0 {
		m.last = max(now.Sub(m.samples[0].at), 0)
	}
	return m.last
}

// replicaMetrics show which server lookups use and why, and the replica's state and lag.
type replicaMetrics struct {
	lookups [numReplicaResults]prometheus.Counter
	state   [numReplicaStates]prometheus.Gauge
	lag     prometheus.Gauge
}

// newReplicaMetrics registers the replica's metrics; only a resolver with a replica has them.
func newReplicaMetrics(f promauto.Factory) *replicaMetrics {
	lookups := f.NewCounterVec(prometheus.CounterOpts{
		Name: "shortlink_replica_lookups_total",
		Help: "PostgreSQL lookups with a read replica configured, by result: served by the replica; or made on the primary " +
			"because the replica's row was older than a change seen (stale), it had no such link (missing), " +
			"the lookup on it failed (failed), or it was down or lagging (skipped).",
	}, []string{labelResult})
	state := f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "shortlink_replica_state",
		Help: "1 for the read replica's state at its last check: ok (lookups use it), lagging (beyond the bound) or down.",
	}, []string{"state"})
	m := &replicaMetrics{lag: f.NewGauge(prometheus.GaugeOpts{
		Name: "shortlink_replica_lag_seconds",
		Help: "How long ago the primary had written WAL the read replica has not replayed yet, at its last check (late by up to one check).",
	})}
	for i := range numReplicaResults {
		m.lookups[i] = lookups.WithLabelValues(replicaResultNames[i])
	}
	for i := range numReplicaStates {
		m.state[i] = state.WithLabelValues(replicaStateNames[i])
	}
	m.state[replicaDown].Set(1) // nothing is known before the first check
	return m
}
