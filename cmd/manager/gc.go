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

import "github.com/shortlink-dev/shortlink/internal/memlimit"

// managerGCPercent is the collector's target unless GOGC says otherwise. The manager's live
// heap is its cache of every ShortLink, and at Go's default of 100 the heap grows to twice it
// before a collection: at 100,000 links a peak RSS of 693 MB for 177 MB live
// (docs/benchmarks.md). At 50 the heap peaks at one and a half times the live heap; the
// collector runs twice as often, which costs the manager CPU it has to spare: the API server,
// not the manager, bounds how fast links converge.
const managerGCPercent = 50

// tuneGC sets the collector: the target above unless GOGC is set, and the soft memory limit
// under the container's unless GOMEMLIMIT is (memlimit.Tune).
func tuneGC(getenv func(string) string) { memlimit.Tune(getenv, managerGCPercent) }
