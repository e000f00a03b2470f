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

package redirect

import "github.com/shortlink-dev/shortlink/internal/stats"

// Visit is one counted redirect, as internal/stats aggregates it.
type Visit = stats.Visit

// VisitRecorder takes visits off the request path. Record must not block: it is called while
// the client waits for its redirect.
type VisitRecorder interface {
	Record(Visit)
}
