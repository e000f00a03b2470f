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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

func (r *ShortLinkReconciler) setReady(sl *linksv1.ShortLink, status metav1.ConditionStatus, reason, msg string) {
	setCondition(sl, linksv1.ConditionReady, status, reason, msg)
	if status == metav1.ConditionFalse {
		// Without a row there is nothing in Redis to speak of.
		meta.RemoveStatusCondition(&sl.Status.Conditions, linksv1.ConditionCached)
	}
}

func (r *ShortLinkReconciler) setCached(sl *linksv1.ShortLink, status metav1.ConditionStatus, reason, msg string) {
	setCondition(sl, linksv1.ConditionCached, status, reason, msg)
}

// setProgress derives kstatus's Reconciling and Stalled from Ready, so Flux and kpt tell a
// link that waits on PostgreSQL (InProgress) from one that no retry alone will fix (Failed);
// without them kstatus reads any Ready=False as InProgress and waits out its timeout. Every
// False reason but DatabaseUnavailable stalls, so a reason added later fails by default.
// Both are removed when not True, as kstatus recommends for abnormal-true conditions.
func setProgress(sl *linksv1.ShortLink) {
	ready := meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady)
	switch {
	case ready == nil || ready.Status == metav1.ConditionTrue:
		meta.RemoveStatusCondition(&sl.Status.Conditions, linksv1.ConditionReconciling)
		meta.RemoveStatusCondition(&sl.Status.Conditions, linksv1.ConditionStalled)
	case ready.Reason == linksv1.ReasonDatabaseUnavailable:
		meta.RemoveStatusCondition(&sl.Status.Conditions, linksv1.ConditionStalled)
		setCondition(sl, linksv1.ConditionReconciling, metav1.ConditionTrue, ready.Reason, ready.Message)
	default:
		meta.RemoveStatusCondition(&sl.Status.Conditions, linksv1.ConditionReconciling)
		setCondition(sl, linksv1.ConditionStalled, metav1.ConditionTrue, ready.Reason, ready.Message)
	}
}

// setCondition keeps LastTransitionTime when the status does not change, so that an
// unchanged reconcile leaves the status byte for byte as it was.
func setCondition(sl *linksv1.ShortLink, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&sl.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(msg, maxMessage), ObservedGeneration: sl.Generation,
	})
}

// maxMessage bounds a condition's message (the API allows 32768 bytes; a page of kubectl is plenty).
const maxMessage = 1024

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// recordTransition emits an event when Ready changes reason — sparingly: not on every
// reconcile, not for database outages, which would flood every object at once, and not for
// a new link's first sync, the expected outcome that status already tells: an event is an
// API write, and an import of 100,000 links would make 100,000 of them.
func (r *ShortLinkReconciler) recordTransition(orig, sl *linksv1.ShortLink) {
	if r.Recorder == nil {
		return
	}
	now := meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady)
	if now == nil || now.Reason == linksv1.ReasonDatabaseUnavailable {
		return
	}
	before := meta.FindStatusCondition(orig.Status.Conditions, linksv1.ConditionReady)
	if before == nil && now.Status == metav1.ConditionTrue {
		return
	}
	if before != nil && before.Reason == now.Reason {
		return
	}
	kind := corev1.EventTypeNormal
	if now.Status != metav1.ConditionTrue {
		kind = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(sl, nil, kind, now.Reason, "Sync", "%s", now.Message)
}
