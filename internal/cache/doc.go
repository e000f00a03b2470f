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

// Package cache holds Shortlink's use of Redis: the versioned link cache shared by every
// redirector (Cache.Set, Cache.Delete, Cache.Get), the invalidation channel that tells
// redirectors a link changed (Cache.Publish, Cache.Subscribe), a Redis client with timeouts
// tight enough that a dead Redis never stalls a caller (NewClient; NewUniversalClient for one
// server, a Sentinel-managed master or a Cluster, by URL scheme), and the classification of
// Redis failures (IsUnavailable). Every script touches one key, so each runs whole on a
// Cluster's node for that key.
//
// The operator writes (Set, Delete, Publish); the redirector reads (Get) and subscribes. Every
// entry carries the version of the urls row it was built from and is written only through one
// compare-version script, so an older version never replaces a newer one, a deleted link leaves
// a tombstone that a slow fill cannot overwrite, and writers need no coordination.
//
// Redis holds only what can be rebuilt from PostgreSQL: losing every key costs latency, never
// data. Nothing here may become the only copy of anything, and nothing here knows about
// PostgreSQL or Kubernetes.
package cache
