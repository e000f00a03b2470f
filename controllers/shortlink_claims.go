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

	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// The holder rule (DESIGN.md §3) has two halves. The store enforces that a live holder keeps
// its code, save against its own restore or an older claim that has stood since its creation.
// The reconciler adds what the store cannot see, one claim at a time: which other ShortLinks
// claim the same code and could hold it, so that when nobody holds it the oldest of them takes
// it, whatever order they are reconciled in.

// eligibleSinceCreation reports whether sl's current claim has stood, eligible, since sl was
// created: it has never been reconciled to an outcome (no refusal, no conflict) and its spec
// never changed. Only such a claim may displace a younger live holder.
func eligibleSinceCreation(sl *linksv1.ShortLink) bool {
	return sl.Generation == 1 && sl.Status.ObservedGeneration == 0
}

// deferToOlderClaim is asked when nobody holds sl's code. It returns a *store.ConflictError
// naming the oldest other claimant that is older than sl and eligible now (its spec would be
// served), which takes the code when it is reconciled; nil when sl is the oldest. Without it, a
// younger claimant reconciled first would take the code and keep it, as a live holder does.
func (r *ShortLinkReconciler) deferToOlderClaim(ctx context.Context, sl *linksv1.ShortLink) error {
	c := r.claimOf(sl)
	rivals, err := r.claimants(ctx, c)
	if err != nil {
		return fmt.Errorf("list rival claimants: %w", err)
	}
	var oldest *linksv1.ShortLink
	for i := range rivals {
		o := &rivals[i]
		if o.UID == sl.UID || !o.DeletionTimestamp.IsZero() || !claimsBefore(o, sl) {
			continue
		}
		if _, err := r.desiredLink(ctx, o, c); isLookupError(err) {
			return err
		} else if err != nil {
			continue // refused: not a claimant that could hold the code now
		}
		if oldest == nil || claimsBefore(o, oldest) {
			oldest = o
		}
	}
	if oldest == nil {
		return nil
	}
	return &store.ConflictError{Holder: oldest.Namespace + "/" + oldest.Name}
}

// claimsBefore orders claims as the store does: by creationTimestamp, then by UID.
func claimsBefore(a, b *linksv1.ShortLink) bool {
	if ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time; !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.UID < b.UID
}

// claimants lists the ShortLinks that claim c: its bucket of claimIndex, narrowed to c. The
// bucket is read without copies (its other claims are only looked at); the claimants are
// copied, as a List from the cache would.
func (r *ShortLinkReconciler) claimants(ctx context.Context, c claim) ([]linksv1.ShortLink, error) {
	var bucket linksv1.ShortLinkList
	if err := r.List(ctx, &bucket, client.MatchingFields{claimIndex: claimBucket(c)}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var out []linksv1.ShortLink
	for i := range bucket.Items {
		if r.claimOf(&bucket.Items[i]) == c {
			out = append(out, *bucket.Items[i].DeepCopy())
		}
	}
	return out, nil
}
