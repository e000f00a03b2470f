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

// Package links holds the Shortlink domain: the Link type and how a link answers a request
// (Link.Decide), the rules that make a short code, target URL or domain acceptable and
// canonical (ValidCode, NormalizeTarget, NormalizeDomain), what an installation serves and how
// its short URLs read (Site: the default domain stored as "", the base URL, the domain list),
// the URL policy that refuses redirect loops, blocklisted hosts and homograph hosts (Policy),
// and the generation of short codes from a sequence (Codec).
//
// It is shared by the operator, the redirector and the create API, so it must stay pure: no I/O
// of any kind (no database, cache, network, files or Kubernetes imports), no clocks (callers pass
// the time) and no package-level state. Everything here can be tested without starting anything.
package links
