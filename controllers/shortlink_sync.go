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
	"errors"
	"fmt"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// errBlocked marks a refusal by the URL policy's blocklist, as opposed to an invalid spec.
var errBlocked = errors.New("blocked")

// maxVisits is the ShortLink's visit limit, 0 (links.Link's no limit) when it has none.
func maxVisits(sl *linksv1.ShortLink) int64 {
	if sl.Spec.MaxVisits == nil {
		return 0
	}
	return *sl.Spec.MaxVisits
}

// claim is the (domain, code) a ShortLink claims; domain is ” for the default domain.
type claim struct {
	domain, code string
}

// claimOf derives the effective claim: spec.code or the name, and spec.domain with the
// default domain folded to ” so that both spellings of one link share a row.
func (r *ShortLinkReconciler) claimOf(sl *linksv1.ShortLink) claim {
	return claimFor(sl, r.Installation.Site)
}

func claimFor(sl *linksv1.ShortLink, site links.Site) claim {
	c := claim{domain: site.StoredDomain(sl.Spec.Domain), code: sl.Spec.Code}
	if c.code == "" {
		c.code = sl.Name
	}
	return c
}

func (r *ShortLinkReconciler) shortURL(c claim) string {
	return r.Installation.Site.ShortURL(c.domain, c.code)
}

// desiredLink builds the normalised link a ShortLink declares and checks it against the
// URL policy and the rules of the ShortLinkDomain governing its host. A policy refusal wraps
// errBlocked, a domain rule's errNotAllowed; a failure to read what the rules need is a
// lookupError, which refuses nothing.
func (r *ShortLinkReconciler) desiredLink(ctx context.Context, sl *linksv1.ShortLink, c claim) (links.Link, error) {
	dom, err := r.governingDomain(ctx, r.hostOf(c))
	if err != nil {
		return links.Link{}, err
	}
	l, err := r.policyLink(ctx, sl, c, dom != nil)
	if err != nil {
		return links.Link{}, err
	}
	if dom != nil {
		if err := r.checkDomainRules(ctx, dom, sl, c); err != nil {
			return links.Link{}, err
		}
	}
	return l, nil
}

// policyLink is desiredLink's first half: the link and the URL policy. declared says a
// ShortLinkDomain declares the link's host, which then is served whatever the flags say.
func (r *ShortLinkReconciler) policyLink(ctx context.Context, sl *linksv1.ShortLink, c claim, declared bool) (links.Link, error) {
	l := links.Link{
		Domain: c.domain, Code: c.code, Target: string(sl.Spec.Target),
		RedirectType: int(sl.Spec.RedirectType), ForwardQuery: sl.Spec.ForwardQuery,
		ForwardPath:   sl.Spec.ForwardPath,
		MaxVisits:     maxVisits(sl),
		ExpiredTarget: string(sl.Spec.ExpiredTarget), Suspended: sl.Spec.Suspend, Tags: sl.Spec.Tags,
		Source: links.SourceK8s, Owner: sl.Namespace + "/" + sl.Name, OwnerUID: string(sl.UID),
	}
	if sl.Spec.ValidSince != nil {
		l.ValidSince = sl.Spec.ValidSince.UTC()
	}
	if sl.Spec.ValidUntil != nil {
		l.ValidUntil = sl.Spec.ValidUntil.UTC()
	}
	l, err := l.Normalized()
	if err != nil {
		return links.Link{}, err
	}
	policy := r.Policy.Load()
	if c.domain != "" && !policy.Serves(c.domain) && !declared {
		return links.Link{}, fmt.Errorf("domain %q is not served by this platform", c.domain)
	}
	for _, target := range []string{l.Target, l.ExpiredTarget} {
		if target == "" {
			continue
		}
		if err := policy.Check(target); errors.Is(err, links.ErrBlocked) {
			return links.Link{}, fmt.Errorf("%w: %w", errBlocked, err)
		} else if err != nil {
			return links.Link{}, err
		}
		if err := r.checkNotDeclaredHost(ctx, target); err != nil {
			return links.Link{}, err
		}
	}
	return l, nil
}

// syncRow makes PostgreSQL hold the link, writing only when something differs. It reads
// first, so that an unchanged resync costs one indexed read and takes no row lock; "unchanged"
// is the store's own definition, the one its upsert applies. It runs before this reconcile
// records an outcome, so the status still tells whether the claim is eligible since creation.
func (r *ShortLinkReconciler) syncRow(ctx context.Context, sl *linksv1.ShortLink, l links.Link) (int64, bool, error) {
	d := store.Declared{
		Link: l, CreatedAt: sl.CreationTimestamp.Time, InstallID: r.Installation.InstallID,
		EligibleSinceCreation: eligibleSinceCreation(sl),
	}
	row, err := r.Store.Get(ctx, l.Domain, l.Code)
	switch {
	case err == nil && d.Unchanged(row):
		return row.Version, false, nil
	case err != nil && !errors.Is(err, links.ErrNotFound):
		return 0, false, err
	}
	if err != nil || row.Deleted {
		if err := r.deferToOlderClaim(ctx, sl); err != nil {
			return 0, false, err
		}
	}
	res, err := r.Store.UpsertDeclared(ctx, d)
	if err != nil {
		return 0, false, err
	}
	return res.Version, res.Changed, nil
}

// syncCache writes Redis after a change and tells the redirectors; without a change it only
// repairs a key that is missing or differs, and publishes nothing, so resyncs do not flush
// every replica's hottest links.
func (r *ShortLinkReconciler) syncCache(ctx context.Context, l links.Link, changed bool) error {
	if changed {
		if _, err := r.Cache.Set(ctx, l); err != nil {
			return fmt.Errorf("write link to redis: %w", err)
		}
		return publish(ctx, r.Cache, l.Domain, l.Code, l.Version)
	}
	entry, err := r.Cache.Get(ctx, l.Domain, l.Code)
	if err == nil && !entry.Deleted && entry.Link.Version == l.Version && entry.Link.SameDeclaration(l) {
		return nil
	}
	if err != nil && !errors.Is(err, links.ErrNotFound) {
		return fmt.Errorf("read link from redis: %w", err)
	}
	if _, err := r.Cache.Repair(ctx, l); err != nil {
		return fmt.Errorf("repair link in redis: %w", err)
	}
	return nil
}

// release tombstones the row this ShortLink holds at claim, if any, and drops it from Redis.
// It is idempotent: a retry after a Redis failure finds the tombstone and finishes the job.
func (r *ShortLinkReconciler) release(ctx context.Context, sl *linksv1.ShortLink, c claim) error {
	version, deleted, err := r.Store.DeleteDeclared(ctx, c.domain, c.code, string(sl.UID))
	if err != nil {
		return fmt.Errorf("delete link row: %w", err)
	}
	if !deleted {
		row, err := r.Store.Get(ctx, c.domain, c.code)
		if errors.Is(err, links.ErrNotFound) || (err == nil && (!row.Deleted || row.OwnerUID != string(sl.UID))) {
			return nil // we hold nothing there
		}
		if err != nil {
			return fmt.Errorf("read link row: %w", err)
		}
		// A retry after a Redis failure: finish only what is unfinished, so that resyncs of a
		// refused link do not publish again and again.
		entry, err := r.Cache.Get(ctx, c.domain, c.code)
		if errors.Is(err, links.ErrNotFound) || (err == nil && entry.Link.Version >= row.Version) {
			return nil
		}
		version = row.Version
	}
	return dropFromCache(ctx, r.Cache, c.domain, c.code, version)
}

// releaseOtherClaims gives up the rows this ShortLink held under an earlier spec.domain. It
// runs only when the spec changed, so resyncs cost nothing extra.
func (r *ShortLinkReconciler) releaseOtherClaims(ctx context.Context, sl *linksv1.ShortLink, c claim) error {
	released, err := r.Store.ReleaseOtherClaims(ctx, string(sl.UID), store.Key{Domain: c.domain, Code: c.code})
	if err != nil {
		return fmt.Errorf("release earlier claims: %w", err)
	}
	for _, row := range released {
		if err := dropFromCache(ctx, r.Cache, row.Domain, row.Code, row.Version); err != nil {
			return err
		}
	}
	return nil
}

// dropFromCache puts a tombstone of version into Redis and tells the redirectors. It runs
// after PostgreSQL holds the tombstone, so its errors are cacheErrors.
func dropFromCache(ctx context.Context, c LinkCache, domain, code string, version int64) error {
	if _, err := c.Delete(ctx, domain, code, version); err != nil {
		return cacheError{fmt.Errorf("delete link from redis: %w", err)}
	}
	if err := publish(ctx, c, domain, code, version); err != nil {
		return cacheError{err}
	}
	return nil
}

// cacheError is a failure to tell Redis of a tombstone PostgreSQL already holds. The change
// feed carries the tombstone, and the redirectors heal Redis from it until Redis agrees, so a
// caller that only needs the row gone may go on.
type cacheError struct{ err error }

func (e cacheError) Error() string { return e.err.Error() }
func (e cacheError) Unwrap() error { return e.err }

func isCacheError(err error) bool {
	var ce cacheError
	return errors.As(err, &ce)
}

func publish(ctx context.Context, c LinkCache, domain, code string, version int64) error {
	if err := c.Publish(ctx, cache.Invalidation{Domain: domain, Code: code, Version: version}); err != nil {
		return fmt.Errorf("publish invalidation: %w", err)
	}
	return nil
}
