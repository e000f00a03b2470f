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

// Package api is the create API served by the redirector under /api/v1/: programmatic links
// stored straight in PostgreSQL (source 'api'), with counter-based codes, the same URL policy
// as the operator, and API keys. It holds HTTP handlers, their JSON types and key handling; SQL
// stays in internal/store and the link rules in internal/links. Redirectors learn of API writes
// from the change feed, like any other write.
package api
