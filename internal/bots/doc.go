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

// Package bots tells visits by people from visits by programs: crawlers, link-preview
// fetchers, headless browsers, scripts and browser prefetches. The redirector classifies each
// counted redirect with it on the request path, so it must stay cheap: no regular expression
// and no allocation a request. A Classifier is built once from a list of User-Agent substrings
// (agents.txt, embedded; every group names its source) and answers by one pass over the
// User-Agent's first MaxScan bytes, checking a bitmap of the entries' first three bytes at each
// position and comparing whole entries only where it is set.
//
// The package holds the list, the matcher and the request headers that mark a prefetch. It
// must not hold counting, storage or HTTP handling: what a class does to a visit's counts is
// the stats flush's and the store's business.
package bots
