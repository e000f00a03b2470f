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
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
func VisitsRollup(c client.Client, totals VisitTotaler, inst Installation) func(context.Context) error {
	return func(ctx context.Context) error {
		all, err := totals.VisitTotals(ctx, inst.InstallID)
		if err != nil {
			return fmt.Errorf("read visit totals: %w", err)
		}
		byClaim := make(map[claim]store.VisitTotal, len(all))
		for _, t := range all {
			byClaim[claim{domain: t.Domain, code: t.Code}] = t
		}
		var list linksv1.ShortLinkList
		if err := c.List(ctx, &list); err != nil {
			return fmt.Errorf("list shortlinks: %w", err)
		}
		for i := range list.Items {
			sl := &list.Items[i]
			t := byClaim[claimFor(sl, inst.Site)]
			if t.OwnerUID != string(sl.UID) {
				t = store.VisitTotal{} // another claimant's row, or none
			}
			if err := patchVisits(ctx, c, sl, t); err != nil {
				return err
			}
		}
		return nil
	}
}

func patchVisits(ctx context.Context, c client.Client, sl *linksv1.ShortLink, t store.VisitTotal) error {
	var last *metav1.Time
	if !t.LastVisitAt.IsZero() {
		last = &metav1.Time{Time: t.LastVisitAt.UTC().Truncate(time.Second)}
	}
	if sl.Status.Visits == t.Visits && sl.Status.BotVisits == t.BotVisits && last.Equal(sl.Status.LastVisitTime) {
		return nil
	}
	orig := sl.DeepCopy()
	sl.Status.Visits, sl.Status.BotVisits, sl.Status.LastVisitTime = t.Visits, t.BotVisits, last
	if err := c.Status().Patch(ctx, sl, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("patch visits of %s/%s: %w", sl.Namespace, sl.Name, err)
	}
	return nil
}
