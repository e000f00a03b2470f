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

// Package localcluster installs Shortlink on the real node of internal/localnode as a user
// installs it on a cluster: the images of `make images` imported into the node's containerd
// (never pulled), PostgreSQL and Redis outside the cluster on the node's address with the
// backends Secret pointing at them (the production shape docs/install.md describes), and the
// chart with hack/cluster/values.yaml — or the kustomize tree — in a namespace that enforces the
// restricted Pod Security Standard. `make cluster` (cmd/localnode -platform) and test/cluster
// use it alike.
package localcluster
