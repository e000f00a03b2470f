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
	"time"

	"github.com/shortlink-dev/shortlink/internal/store"
)

// poller reads the change feed: the durable path of invalidation. It works through PgBouncer
// and catches what pub/sub cannot: lost messages, links made through the API, and unknown
// codes that became links.
//
// A version is drawn before its transaction commits, so a write may become visible after one
// with a higher version. Each poll therefore starts PollOverlap versions behind the highest
// seen, and remembers the versions it applied in that window so it applies each once.
type poller struct {
	r       *Resolver
	started bool
	high    int64
	applied map[int64]struct{}
	dbUp    bool
}

func (r *Resolver) poll(ctx context.Context) {
	p := &poller{r: r, applied: make(map[int64]struct{}), dbUp: true}
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

// readChanges applies every change since the last poll, page by page.
func (p *poller) readChanges(ctx context.Context) error {
	if !p.started {
		err := p.call(ctx, func(ctx context.Context) (err error) {
			p.high, err = p.r.store.MaxVersion(ctx)
			return err
		})
		if err != nil {
			return err
		}
		p.started = true
	}
	after := max(0, p.high-p.r.opts.PollOverlap)
	for {
		var rows []store.Row
		if err := p.call(ctx, func(ctx context.Context) (err error) {
			rows, err = p.r.store.Changes(ctx, after, p.r.opts.PollBatch)
			return err
		}); err != nil {
			return err
		}
		p.apply(rows)
		if len(rows) < p.r.opts.PollBatch {
			break
		}
		after = rows[len(rows)-1].Version
	}
	p.forgetBelow(p.high - p.r.opts.PollOverlap)
	return nil
}

// call runs one statement with the lookup deadline.
func (p *poller) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, p.r.opts.DBTimeout)
	defer cancel()
	return fn(ctx)
}

// apply invalidates the page's changes not applied yet, then heals Redis with them in one call.
func (p *poller) apply(rows []store.Row) {
	fresh := make([]store.Row, 0, len(rows))
	for _, row := range rows {
		if _, ok := p.applied[row.Version]; ok {
			continue
		}
		p.applied[row.Version] = struct{}{}
		p.high = max(p.high, row.Version)
		p.r.invalidate(key{domain: row.Domain, code: row.Code}, row.Version, sourcePoll)
		fresh = append(fresh, row)
	}
	p.r.healRedis(fresh)
}

func (p *poller) forgetBelow(v int64) {
	for version := range p.applied {
		if version <= v {
			delete(p.applied, version)
		}
	}
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
