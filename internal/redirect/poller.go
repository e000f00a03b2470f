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
	"maps"
	"time"

	"github.com/shortlink-dev/shortlink/internal/store"
)

// poller reads the change feed: the durable path of invalidation. It works through PgBouncer
// and catches what pub/sub cannot: lost messages, links made through the API, and unknown
// codes that became links.
//
// The feed is read in commit order (see store.Feed). Each poll reads every change at or after
// pos, applies those not applied yet, and moves pos up to the oldest transaction still running
// (store.Settled), so a writer that commits late is read when it commits, however many
// versions others drew meanwhile. Changes read beyond that point are read again by the next
// poll; applied remembers them so each is applied once: for each transaction at or after pos,
// the highest version of it applied. A transaction's changes all become visible at its commit
// and are read in version order, and every read starts at a transaction's first change or just
// after one applied, so the changes of a transaction applied so far are always the ones up to
// that version. One entry a transaction rather than one a change keeps the lookup of every
// change read in a map of a few entries: one a change cost a cache miss each, 11 % of the CPU
// of a redirector hosting the API during 1,000-link batches (bin/bench/create-batch.pprof).
//
// The poller also keeps Redis in agreement with PostgreSQL, durably: Redis holds a heal cursor
// (cache.HealCursorKey) below which it has taken every change. Each poll heals from that cursor
// and raises it only when Redis took every page, so a change Redis missed (a hang, an open
// breaker, a manager whose Redis write failed) is retried by every replica until Redis has it,
// and a replica started after the outage still finds what is missing.
type poller struct {
	r       *Resolver
	started bool
	pos     store.FeedPosition
	applied map[int64]int64 // txid → the highest version of it applied
	// page is the memory of the page read last, read over by the next.
	page []store.Change
	// agreed is a transaction id below which Redis is known to hold every change: where this
	// replica's feed began, then the heal cursor each time Redis took a poll's changes. A Redis
	// found without a cursor gets this one, not pos: entries filled before a cursor existed may
	// be stale for changes this replica applied while Redis could not be reached.
	agreed int64
	dbUp   bool
}

func (r *Resolver) poll(ctx context.Context) {
	p := &poller{r: r, applied: make(map[int64]int64), dbUp: true}
	t := time.NewTicker(r.opts.PollInterval)
	defer t.Stop()
	for {
		p.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *poller) tick(ctx context.Context) {
	p.pingRedis(ctx)
	err := p.readChanges(ctx)
	if err == nil && p.r.domains != nil {
		err = p.call(ctx, p.r.domains.Refresh)
	}
	p.r.recordDB(err)
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil && p.dbUp:
		p.r.log.Warn("Reading the change feed failed; retrying every poll", "error", err)
	case err == nil && !p.dbUp:
		p.r.log.Info("Reading the change feed again")
	}
	p.dbUp = err == nil
}

// readChanges applies every change since the last poll, page by page, healing Redis from its
// cursor on the way.
func (p *poller) readChanges(ctx context.Context) error {
	var settled int64
	if err := p.call(ctx, func(ctx context.Context) (err error) {
		settled, err = p.r.store.Settled(ctx)
		return err
	}); err != nil {
		return err
	}
	if !p.started {
		if err := p.start(ctx, settled); err != nil {
			return err
		}
	}
	h := p.healFrom(ctx)
	at := p.pos
	if h.heal && h.cursor < at.Txid {
		at = store.FeedStart(h.cursor) // Redis missed changes this replica has applied
	}
	for {
		if err := p.call(ctx, func(ctx context.Context) (err error) {
			p.page, err = p.r.store.Feed(ctx, p.page, at, p.r.opts.PollBatch)
			return err
		}); err != nil {
			return err
		}
		page := p.page
		p.apply(page, &h)
		if len(page) < p.r.opts.PollBatch {
			break
		}
		at = page[len(page)-1].Position()
		if !h.heal && at.Txid < p.pos.Txid {
			at = p.pos // Redis refused the catch-up: leave it for the next poll
		}
	}
	p.settle(ctx, settled, h)
	return nil
}

// start places pos at the first poll: at the changes of the last StartOverlap versions, so
// that a change written just before this replica started is applied (and healed) all the same.
func (p *poller) start(ctx context.Context, settled int64) error {
	var recent int64
	var ok bool
	if err := p.call(ctx, func(ctx context.Context) (err error) {
		recent, ok, err = p.r.store.RecentStart(ctx, p.r.opts.StartOverlap)
		return err
	}); err != nil {
		return err
	}
	p.pos = store.FeedStart(settled)
	if ok && recent < settled {
		p.pos = store.FeedStart(recent)
	}
	p.agreed = p.pos.Txid
	p.started = true
	return nil
}

// heal is one poll's view of Redis: whether to heal it, and its cursor when the poll began.
type heal struct {
	heal   bool
	cursor int64
}

// healFrom reads Redis's heal cursor. Without Redis, or while its breaker is open, this poll
// heals nothing and the cursor stays. A Redis that holds no cursor is new or emptied, or was
// never given one (every replica's first poll came while it hung): it gets the cursor this
// replica last saw Redis agree to, so the changes since are healed, and a change it misses
// from now on is found again whenever the cursor was last raised.
func (p *poller) healFrom(ctx context.Context) heal {
	if p.r.redis == nil || !p.r.breaker.allow() {
		return heal{}
	}
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.RedisTimeout)
	defer cancel()
	cursor, ok, err := p.r.redis.HealCursor(ctx)
	if err == nil && !ok {
		cursor, err = p.agreed, p.r.redis.AdvanceHealCursor(ctx, p.agreed)
	}
	p.r.breaker.record(err)
	if err != nil {
		p.r.log.Debug("Reading the Redis heal cursor failed", "error", err)
		return heal{}
	}
	return heal{heal: true, cursor: cursor}
}

// apply heals Redis with the page's changes it may lack, then invalidates every change not
// applied yet, and those Redis lacked: a replica may have read a stale Redis entry before the
// heal, and only this drops it. Healing first means a fill after the invalidation reads the
// healed entry.
func (p *poller) apply(page []store.Change, h *heal) {
	if h.heal {
		h.heal = p.r.healRedis(page, h.cursor)
	}
	for _, c := range page {
		if p.firstTime(c) {
			p.r.invalidate(key{domain: c.Domain, code: c.Code}, c.Version, sourcePoll)
		}
	}
}

// firstTime reports whether c is to be applied, and remembers it: a change at or after pos is
// applied once, however many polls read it; one below pos is read again only to heal a Redis
// that lacked it, and applied again, as a replica may have read the stale entry meanwhile.
func (p *poller) firstTime(c store.Change) bool {
	if c.Txid < p.pos.Txid { // pos is always the start of a transaction
		return true
	}
	if c.Version <= p.applied[c.Txid] {
		return false
	}
	p.applied[c.Txid] = c.Version
	return true
}

// settle moves pos up to settled, forgets what no later poll reads again, and raises Redis's
// heal cursor when Redis took every change below settled.
func (p *poller) settle(ctx context.Context, settled int64, h heal) {
	if settled > p.pos.Txid {
		p.pos = store.FeedStart(settled)
	}
	p.forgetApplied()
	if !h.heal {
		return
	}
	if h.cursor >= p.pos.Txid {
		p.agreed = max(p.agreed, min(h.cursor, p.pos.Txid))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.RedisTimeout)
	defer cancel()
	err := p.r.redis.AdvanceHealCursor(ctx, p.pos.Txid)
	p.r.breaker.record(err)
	if err != nil {
		p.r.log.Debug("Raising the Redis heal cursor failed", "error", err)
		return
	}
	p.agreed = p.pos.Txid
}

// forgetApplied forgets the transactions that no later poll reads again: those below pos.
func (p *poller) forgetApplied() {
	maps.DeleteFunc(p.applied, func(txid, _ int64) bool { return txid < p.pos.Txid })
}

// call runs one statement with the lookup deadline.
func (p *poller) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.DBTimeout)
	defer cancel()
	return fn(ctx)
}

// pingRedis lets the breaker and shortlink_dependency_up follow Redis when no request needs it.
func (p *poller) pingRedis(ctx context.Context) {
	if p.r.ping == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.RedisTimeout)
	defer cancel()
	p.r.breaker.record(p.r.ping(ctx))
}
