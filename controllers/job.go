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
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Job is a leader-only chore run on an interval (with jitter, so that replicas restarted
// together do not hit PostgreSQL in step). It implements manager.Runnable and
// manager.LeaderElectionRunnable.
type Job struct {
	Name     string
	Interval time.Duration
	Run      func(ctx context.Context) error
	// Runs counts completed passes by job and result; nil disables it.
	Runs *prometheus.CounterVec
}

// NeedLeaderElection keeps jobs on the leader only.
func (j *Job) NeedLeaderElection() bool { return true }

// Start runs the job once at once, then every Interval until ctx ends. A failed pass is
// logged and tried again at the next tick: the jobs are idempotent. The interval runs from the
// start of a pass, so a pass that spends its interval (the visits rollup pacing its writes)
// does not halve the job's rate; one that overruns it is followed at once.
func (j *Job) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("job", j.Name)
	for {
		started := time.Now()
		result := "success"
		if err := j.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "Job pass failed; retrying at the next interval")
			result = "error"
		}
		if j.Runs != nil {
			j.Runs.WithLabelValues(j.Name, result).Inc()
		}
		jitter := time.Duration(rand.Int64N(int64(j.Interval)/10 + 1)) //nolint:gosec // jitter needs no secrecy
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(j.Interval - time.Since(started) + jitter):
		}
	}
}
