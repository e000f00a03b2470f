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

// redirectorGCPercent is the collector's target unless GOGC says otherwise. A redirector's live
// heap is mostly its in-process cache, large beside the few kilobytes of garbage a request
// leaves; at Go's default of 100 the collector marks the whole cache again every time that much
// garbage has piled up. At 400 it marks it a quarter as often: 6 % less CPU a cached redirect,
// measured against the default on the make dev stack.
const redirectorGCPercent = 400

// tuneGC sets the collector: the target above unless GOGC is set, and the soft memory limit
// under the container's unless GOMEMLIMIT is (memlimit.Tune).
func tuneGC(getenv func(string) string) { memlimit.Tune(getenv, redirectorGCPercent) }
