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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// policyWatcher holds the URL policy and rebuilds it when the blocklist file changes (a
// mounted ConfigMap changes its file in place). Each change sends one event, which makes the
// reconciler check every ShortLink again: a newly blocked domain's links become Blocked.
type policyWatcher struct {
	current  *controllers.PolicySource
	changed  chan event.GenericEvent
	served   []string
	file     string
	interval time.Duration
	last     []byte
}

func newPolicyWatcher(o options) (*policyWatcher, error) {
	served := []string{o.defaultDomain}
	for _, d := range strings.Split(o.domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			served = append(served, d)
		}
	}
	w := &policyWatcher{
		current: &controllers.PolicySource{}, changed: make(chan event.GenericEvent, 1),
		served: served, file: o.blocklistFile, interval: o.policyPollInterval,
	}
	if _, err := w.reload(); err != nil {
		return nil, err
	}
	return w, nil
}

// reload rebuilds the policy when the file's content changed, and reports whether it did.
func (w *policyWatcher) reload() (bool, error) {
	var data []byte
	if w.file != "" {
		var err error
		if data, err = os.ReadFile(w.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("read blocklist: %w", err)
		}
	}
	if w.current.Load() != nil && bytes.Equal(data, w.last) {
		return false, nil
	}
	blocked, err := links.LoadBlocklist(bytes.NewReader(data))
	if err != nil {
		return false, fmt.Errorf("blocklist %s: %w", w.file, err)
	}
	p, err := links.NewPolicy(w.served, blocked)
	if err != nil {
		return false, fmt.Errorf("url policy: %w", err)
	}
	w.current.Store(p)
	w.last = data
	return true, nil
}

// Start polls the file. A bad edit keeps the previous policy and is logged.
func (w *policyWatcher) Start(ctx context.Context) error {
	if w.file == "" {
		return nil
	}
	log := logf.FromContext(ctx).WithValues("file", w.file)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.interval):
		}
		changed, err := w.reload()
		if err != nil {
			log.Error(err, "Blocklist not reloaded; keeping the previous one")
			continue
		}
		if changed {
			log.Info("Blocklist changed; checking every ShortLink again")
			select {
			case w.changed <- event.GenericEvent{Object: &linksv1.ShortLink{}}:
			default: // one pending event already re-checks everything
			}
		}
	}
}

// NeedLeaderElection is false: every replica keeps its policy current.
func (w *policyWatcher) NeedLeaderElection() bool { return false }
