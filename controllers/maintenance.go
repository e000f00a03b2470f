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
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Maintainer is the store's housekeeping.
type Maintainer interface {
	EnsurePartitions(ctx context.Context, now time.Time, monthsAhead int) error
	DropPartitionsBefore(ctx context.Context, cutoff time.Time) ([]string, error)
	PurgeTombstones(ctx context.Context, olderThan time.Time, limit int) (int64, error)
	PruneStatsBatches(ctx context.Context, olderThan time.Time) (int64, error)
}

// statsBatchRetention bounds how long a flushed batch id is remembered; retries of one flush
// happen within minutes.
const statsBatchRetention = 24 * time.Hour

// Maintenance creates visit_logs partitions ahead (this month and the next two), drops those
// past retention (and the hourly counts of the same age), purges tombstones kept longer than any cache TTL, and prunes old stats batch
// ids.
func Maintenance(m Maintainer, visitRetention, tombstoneRetention time.Duration, now func() time.Time) func(context.Context) error {
	return func(ctx context.Context) error {
		t := now()
		if err := m.EnsurePartitions(ctx, t, 2); err != nil {
			return fmt.Errorf("create visit_logs partitions: %w", err)
		}
		dropped, err := m.DropPartitionsBefore(ctx, t.Add(-visitRetention))
		if err != nil {
			return fmt.Errorf("drop old visit_logs partitions: %w", err)
		}
		purged, err := m.PurgeTombstones(ctx, t.Add(-tombstoneRetention), 10000)
		if err != nil {
			return fmt.Errorf("purge tombstones: %w", err)
		}
		pruned, err := m.PruneStatsBatches(ctx, t.Add(-statsBatchRetention))
		if err != nil {
			return fmt.Errorf("prune stats batches: %w", err)
		}
		if len(dropped) > 0 || purged > 0 || pruned > 0 {
			logf.FromContext(ctx).Info("Maintenance done", "droppedPartitions", dropped, "purgedTombstones", purged, "prunedBatches", pruned)
		}
		return nil
	}
}

// Collectable is what garbage collection needs of the store.
type Collectable interface {
	ListDeclared(ctx context.Context, installID string, after store.Key, limit int) ([]store.Row, error)
	DeleteDeclared(ctx context.Context, domain, code, ownerUID string) (int64, bool, error)
}

// gcPage is how many rows garbage collection reads from PostgreSQL at a time.
const gcPage = 500

// GarbageCollector deletes k8s rows of this installation whose ShortLink is gone, at most
// MaxDeletes a pass. It covers ShortLinks removed while the manager was down or without their
// finalizer.
//
// Absence is confirmed in two steps. A list of the ShortLinks from the informer cache names the
// rows whose owner it lacks, at no cost to the API server however many rows there are; since
// the cache may lag (a ShortLink just created), each of those alone is then read live from the
// API server, never the cache, before its row goes.
type GarbageCollector struct {
	Store Collectable
	Cache LinkCache
	// Listed lists ShortLinks; the manager's cached client.
	Listed client.Reader
	// Live reads from the API server itself.
	Live       client.Reader
	InstallID  string
	MaxDeletes int
}

// Run is one pass. A live read that fails keeps its row for a later pass without stopping
// this one; the pass then reports how many rows it could not judge.
func (g *GarbageCollector) Run(ctx context.Context) error {
	listed, err := g.listedOwners(ctx)
	if err != nil {
		return err
	}
	var unread []error
	deleted := 0
	var after store.Key
	for deleted < g.MaxDeletes {
		rows, err := g.Store.ListDeclared(ctx, g.InstallID, after, gcPage)
		if err != nil {
			return fmt.Errorf("list declared rows: %w", err)
		}
		for _, row := range rows {
			if deleted == g.MaxDeletes {
				break
			}
			if uid, ok := listed[row.Owner]; ok && uid == row.OwnerUID {
				continue // its ShortLink is there
			}
			gone, err := g.ownerGone(ctx, row)
			if err != nil {
				unread = append(unread, err)
				continue
			}
			if gone {
				if err := g.collect(ctx, row); err != nil {
					return err
				}
				deleted++
			}
		}
		if len(rows) < gcPage {
			break
		}
		after = store.Key{Domain: rows[len(rows)-1].Domain, Code: rows[len(rows)-1].Code}
	}
	if deleted > 0 {
		logf.FromContext(ctx).Info("Garbage collected rows of deleted ShortLinks", "rows", deleted)
	}
	if len(unread) > 0 {
		return fmt.Errorf("%d rows kept for a later pass, their ShortLink unread: %w", len(unread), unread[0])
	}
	return nil
}

// listedOwners maps "namespace/name" of every listed ShortLink to its UID. The objects are
// only read here, so the cache need not copy them.
func (g *GarbageCollector) listedOwners(ctx context.Context) (map[string]string, error) {
	var list linksv1.ShortLinkList
	if err := g.Listed.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list shortlinks: %w", err)
	}
	owners := make(map[string]string, len(list.Items))
	for i := range list.Items {
		owners[list.Items[i].Namespace+"/"+list.Items[i].Name] = string(list.Items[i].UID)
	}
	return owners, nil
}

// ownerGone reads the row's ShortLink live: gone when it is not found, or found under
// another UID (deleted and created again).
func (g *GarbageCollector) ownerGone(ctx context.Context, row store.Row) (bool, error) {
	ns, name, ok := strings.Cut(row.Owner, "/")
	if !ok {
		return false, nil // not ours to judge
	}
	var sl linksv1.ShortLink
	err := g.Live.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sl)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read shortlink %s: %w", row.Owner, err)
	}
	return string(sl.UID) != row.OwnerUID && sl.UID != "", nil
}

func (g *GarbageCollector) collect(ctx context.Context, row store.Row) error {
	version, deleted, err := g.Store.DeleteDeclared(ctx, row.Domain, row.Code, row.OwnerUID)
	if err != nil || !deleted {
		return err
	}
	if err := dropFromCache(ctx, g.Cache, row.Domain, row.Code, version); err != nil {
		// The tombstone is in the change feed; the redirectors heal Redis from it.
		logf.FromContext(ctx).Info("Row tombstoned; Redis not told, the change feed will", "error", err.Error())
	}
	return nil
}
