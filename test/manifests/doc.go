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

// Package manifests tests what Shortlink ships to clusters: the images `make images` builds,
// config/ rendered by kustomize and charts/shortlink rendered by helm (dry-run on a real
// kube-apiserver under the restricted Pod Security Standard), and the monitoring rules and
// dashboard against the metrics the running binaries export.
//
// It is a module of its own so that helm-, kustomize- and Prometheus-sized dependencies stay out
// of the main module; it reaches internal/localenv through a replace directive.
package manifests
