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
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// LinkStates remembers the outcome of each ShortLink's last reconcile and exports the counts
// as shortlink_links{condition}.
type LinkStates struct {
	mu     sync.Mutex
	states map[types.NamespacedName]string
	desc   *prometheus.Desc
}

// Conditions exported by shortlink_links (DESIGN §5).
var linkConditions = map[string]string{
	linksv1.ReasonSynced:              "ready",
	linksv1.ReasonCodeConflict:        "conflict",
	linksv1.ReasonInvalidTarget:       "invalid",
	linksv1.ReasonBlocked:             "blocked",
	linksv1.ReasonDatabaseUnavailable: "db_unavailable",
	linksv1.ReasonNotAllowed:          "not_allowed",
}

// NewLinkStates returns an empty LinkStates; register it on a Prometheus registry.
func NewLinkStates() *LinkStates {
	return &LinkStates{
		states: map[types.NamespacedName]string{},
		desc:   prometheus.NewDesc("shortlink_links", "ShortLinks by the outcome of their last reconcile.", []string{"condition"}, nil),
	}
}

// Record notes the Ready reason of a reconciled ShortLink.
func (s *LinkStates) Record(sl *linksv1.ShortLink) {
	c := meta.FindStatusCondition(sl.Status.Conditions, linksv1.ConditionReady)
	if c == nil {
		return
	}
	label, ok := linkConditions[c.Reason]
	if !ok || (c.Status != metav1.ConditionTrue && label == "ready") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[types.NamespacedName{Namespace: sl.Namespace, Name: sl.Name}] = label
}

// Forget drops a ShortLink that is gone.
func (s *LinkStates) Forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.states, key)
}

// Describe implements prometheus.Collector.
func (s *LinkStates) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector: every condition is reported, zero included.
func (s *LinkStates) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	s.mu.Lock()
	for _, label := range s.states {
		counts[label]++
	}
	s.mu.Unlock()
	for _, label := range linkConditions {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(counts[label]), label)
	}
}
