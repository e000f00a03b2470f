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

package main

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// policyWatcher keeps the URL policy current as the blocklist file changes (a mounted
// ConfigMap changes its file in place). Each change sends one event, which makes the
// reconciler check every ShortLink again: a newly blocked domain's links become Blocked.
type policyWatcher struct {
	policy   *links.PolicyFile
	current  *controllers.PolicySource
	changed  chan event.GenericEvent
	file     string
	interval time.Duration
}

func newPolicyWatcher(o options) (*policyWatcher, error) {
	p, err := o.site.PolicyFile(o.blocklistFile)
	if err != nil {
		return nil, err
	}
	return &policyWatcher{
		policy: p, current: p.Source(), changed: make(chan event.GenericEvent, 1),
		file: o.blocklistFile, interval: o.policyPollInterval,
	}, nil
}

// Start polls the file. A bad edit keeps the previous policy and is logged.
func (w *policyWatcher) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("file", w.file)
	w.policy.Watch(ctx, w.interval, func() {
		log.Info("Blocklist changed; checking every ShortLink again")
		select {
		case w.changed <- event.GenericEvent{Object: &linksv1.ShortLink{}}:
		default: // one pending event already re-checks everything
		}
	}, func(err error) {
		log.Error(err, "Blocklist not reloaded; keeping the previous one")
	})
	return nil
}

// NeedLeaderElection is false: every replica keeps its policy current.
func (w *policyWatcher) NeedLeaderElection() bool { return false }
