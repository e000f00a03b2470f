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

// Package localenv starts the real components Shortlink runs against — etcd and
// kube-apiserver (through controller-runtime's envtest), optionally kube-controller-manager,
// PostgreSQL, PgBouncer in transaction pooling mode, and Redis (alone, as a Sentinel set of a
// master, a replica and three sentinels, or as a three-master Cluster) — each on a free loopback
// port in its own temporary directory, for tests, `make dev` and `make bench`.
//
// Every process is a direct child with a parent-death signal, and Start first sweeps away the
// processes and directories of an earlier run whose owner died, so no server outlives the run
// that started it, even after a panic or a `go test -timeout`. PostgreSQL, PgBouncer and Redis
// can be stopped and started again on the same port, so tests can take a dependency away.
//
// This package holds process management only: no Shortlink schema, data or business logic.
package localenv
