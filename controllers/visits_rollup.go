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

package controllers

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// VisitTotaler reads visit counts in bulk.
type VisitTotaler interface {
	VisitTotals(ctx context.Context, installID string) ([]store.VisitTotal, error)
}

// VisitsRollup copies visit totals from url_stats into status.visits (people's), botVisits
// (programs') and lastVisitTime: one bulk read a pass, and a status patch only for the
// ShortLinks whose numbers moved — never one apiserver write per visit. Visits belong to the holder: a ShortLink shows the count of
// the row it holds for the code it claims now, and 0 when it holds none (it lost the code,
// gave it up or waits for it), never the count of a row it held under an earlier spec.
//
// Its writes are bounded so that it never crowds out reconciles: at most MaxPatches a pass,
// through a client with its own rate limiter (NewRollupClient), in the order of how far each
// status is behind, so the writes go where counts moved most. A link left over waits for the
// next pass with its priority doubled, so one that moved little is written within a few passes
// even while busier links keep moving.
type VisitsRollup struct {
	// Client lists ShortLinks and patches their status; give it its own rate limiter.
	Client       client.Client
	Totals       VisitTotaler
	Installation Installation
	// MaxPatches bounds the status patches of one pass (RollupBudget); 0 or less: no bound.
	MaxPatches int
	// Timeout bounds a pass; what is left when it ends waits for the next pass. 0: no bound.
	Timeout time.Duration
	// Metrics counts patches and links left over; nil: none.
	Metrics *RollupMetrics

	// waited counts the passes each left-over link has waited; only the leader's job runs Run.
	waited map[types.UID]int
}

// behind is one ShortLink whose status lags its counts.
type behind struct {
	sl       *linksv1.ShortLink
	total    store.VisitTotal
	priority float64
}

// Run is one pass: read the totals, find the statuses that lag, patch the most behind first.
func (r *VisitsRollup) Run(ctx context.Context) error {
	lagging, err := r.lagging(ctx)
	if err != nil {
		return err
	}
	written, err := r.patch(ctx, lagging)
	r.remember(lagging[written:])
	if r.Metrics != nil {
		r.Metrics.Pending.Set(float64(len(lagging) - written))
	}
	return err
}

// lagging lists the ShortLinks whose status differs from their row's counts, most behind first.
func (r *VisitsRollup) lagging(ctx context.Context) ([]behind, error) {
	all, err := r.Totals.VisitTotals(ctx, r.Installation.InstallID)
	if err != nil {
		return nil, fmt.Errorf("read visit totals: %w", err)
	}
	byClaim := make(map[claim]store.VisitTotal, len(all))
	for _, t := range all {
		byClaim[claim{domain: t.Domain, code: t.Code}] = t
	}
	// The cache's own objects, not copies: a pass reads every ShortLink, and copying them all
	// took a transient 30 MB at 100,000 links every 30 s. Only the few that lag are copied, as
	// patchVisits changes them.
	var list linksv1.ShortLinkList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list shortlinks: %w", err)
	}
	var lagging []behind
	for i := range list.Items {
		sl := &list.Items[i]
		t := byClaim[claimFor(sl, r.Installation.Site)]
		if t.OwnerUID != string(sl.UID) {
			t = store.VisitTotal{} // another claimant's row, or none
		}
		if moved := visitsMoved(sl, t); moved > 0 {
			// Doubling per pass waited: a link that moved by 1 overtakes one that moved by a
			// million within 20 passes, so nothing waits forever.
			p := float64(moved) * math.Ldexp(1, min(r.waited[sl.UID], 60)) // capped: stays finite
			lagging = append(lagging, behind{sl: sl.DeepCopy(), total: t, priority: p})
		}
	}
	slices.SortFunc(lagging, func(a, b behind) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		return cmp.Compare(a.sl.Namespace+"/"+a.sl.Name, b.sl.Namespace+"/"+b.sl.Name)
	})
	return lagging, nil
}

// patch writes lagging statuses in order until the pass's budget or time is spent, and
// returns how many it wrote. Time is checked before each patch rather than by a context
// deadline, since the rate limiter refuses a wait that would end past a deadline with an error
// that does not say so; a pass thus ends at most one token's wait after its Timeout.
func (r *VisitsRollup) patch(ctx context.Context, lagging []behind) (int, error) {
	start := time.Now()
	for i, b := range lagging {
		if (r.MaxPatches > 0 && i >= r.MaxPatches) || (r.Timeout > 0 && time.Since(start) >= r.Timeout) {
			return i, nil // the rest wait for the next pass
		}
		if err := patchVisits(ctx, r.Client, b.sl, b.total); err != nil {
			return i, err
		}
		if r.Metrics != nil {
			r.Metrics.Patches.Inc() // as it goes, so a long pass shows its progress
		}
	}
	return len(lagging), nil
}

// remember ages the links left over, and forgets those written or no longer behind.
func (r *VisitsRollup) remember(left []behind) {
	waited := make(map[types.UID]int, len(left))
	for _, b := range left {
		waited[b.sl.UID] = r.waited[b.sl.UID] + 1
	}
	r.waited = waited
}

// visitsMoved says how far a status is behind its counts: the visits it misses, or 1 when only
// the last visit's time differs; 0 when it is current.
func visitsMoved(sl *linksv1.ShortLink, t store.VisitTotal) int64 {
	moved := absDiff(sl.Status.Visits, t.Visits) + absDiff(sl.Status.BotVisits, t.BotVisits)
	if moved == 0 && !lastVisit(t).Equal(sl.Status.LastVisitTime) {
		moved = 1
	}
	return moved
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func lastVisit(t store.VisitTotal) *metav1.Time {
	if t.LastVisitAt.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t.LastVisitAt.UTC().Truncate(time.Second)}
}

func patchVisits(ctx context.Context, c client.Client, sl *linksv1.ShortLink, t store.VisitTotal) error {
	orig := sl.DeepCopy()
	sl.Status.Visits, sl.Status.BotVisits, sl.Status.LastVisitTime = t.Visits, t.BotVisits, lastVisit(t)
	if err := c.Status().Patch(ctx, sl, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("patch visits of %s/%s: %w", sl.Namespace, sl.Name, err)
	}
	return nil
}

// RollupBudget is the patches a pass may write: a second's worth of qps for every second of
// the interval, and at least one.
func RollupBudget(qps float64, interval time.Duration) int {
	return max(1, int(qps*interval.Seconds()))
}

// NewRollupClient returns a client that reads through reader (the manager's cache) and writes
// through a rate limiter of its own, qps a second, so the rollup never spends the reconciler's
// budget and the API server sees at most qps of its writes a second. It shares the manager's
// scheme and REST mapper, so it makes no discovery requests of its own.
func NewRollupClient(cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper, reader client.Reader, qps float64) (client.Client, error) {
	own := rest.CopyConfig(cfg)
	own.RateLimiter = nil
	own.QPS, own.Burst = float32(qps), max(1, int(math.Ceil(qps)))
	c, err := client.New(own, client.Options{Scheme: scheme, Mapper: mapper, Cache: &client.CacheOptions{Reader: reader}})
	if err != nil {
		return nil, fmt.Errorf("visits rollup client: %w", err)
	}
	return c, nil
}

// RollupMetrics are the rollup's: what it wrote, and what it left for the next pass.
type RollupMetrics struct {
	Patches prometheus.Counter
	Pending prometheus.Gauge
}

// NewRollupMetrics registers the rollup's metrics on reg.
func NewRollupMetrics(reg prometheus.Registerer) *RollupMetrics {
	f := promauto.With(reg)
	return &RollupMetrics{
		Patches: f.NewCounter(prometheus.CounterOpts{
			Name: "shortlink_visits_rollup_patches_total",
			Help: "Status patches the visits rollup wrote to the API server.",
		}),
		Pending: f.NewGauge(prometheus.GaugeOpts{
			Name: "shortlink_visits_rollup_pending_links",
			Help: "ShortLinks whose visit counts the last rollup pass left for the next one.",
		}),
	}
}
