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
	"time"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// CacheOptions are the manager's informer cache options. Every ShortLink is reconciled again
// each resync (controller-runtime jitters it), which repairs rows and keys that someone changed
// by hand; and every cached ShortLink is trimmed to what the operator reads (trimShortLink).
func CacheOptions(resync time.Duration) crcache.Options {
	return crcache.Options{
		SyncPeriod: &resync,
		ByObject: map[client.Object]crcache.ByObject{
			&linksv1.ShortLink{}: {Transform: trimShortLink},
		},
	}
}

// trimShortLink keeps of a ShortLink's metadata only what the operator reads — identity,
// generation, lifecycle and finalizers — before the informer stores it. The rest is the
// tenant's to fill: annotations alone may hold 256 KiB an object (kubectl's
// last-applied-configuration copies the whole spec there), managedFields grow with every
// writer, and the cache holds every ShortLink of the cluster for the life of the process.
//
// What is dropped stays on the API server: the reconciler writes only by merge patches of
// what it changed (finalizers, status), which leave the other fields alone. A label selector
// on this cache would find nothing; the operator uses none.
func trimShortLink(in any) (any, error) {
	sl, ok := in.(*linksv1.ShortLink)
	if !ok {
		return in, nil // not ours to trim
	}
	m := sl.ObjectMeta
	sl.ObjectMeta = metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp, DeletionGracePeriodSeconds: m.DeletionGracePeriodSeconds,
		Finalizers: m.Finalizers,
	}
	shareCommonStrings(sl)
	return sl, nil
}

// shareCommonStrings points the strings that nearly every cached ShortLink repeats — its
// finalizer, its conditions' types, statuses and reasons — at one copy of each
// (unique.Make), and status.code at the name it usually equals. The decoder allocates each of
// them anew for every object, and the cache keeps every ShortLink for the life of the process.
// The values do not change, so neither does anything that reads them.
func shareCommonStrings(sl *linksv1.ShortLink) {
	for i := range sl.Finalizers {
		sl.Finalizers[i] = intern(sl.Finalizers[i])
	}
	for i := range sl.Status.Conditions {
		c := &sl.Status.Conditions[i]
		c.Type, c.Reason = intern(c.Type), intern(c.Reason)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
	}
	if sl.Status.Code == sl.Name {
		sl.Status.Code = sl.Name
	}
}

func intern(s string) string { return unique.Make(s).Value() }
