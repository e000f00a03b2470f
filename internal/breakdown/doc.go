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

// Package breakdown sorts visits into the classes a link's daily breakdowns count: the
// referrer's domain and the device class, both read from what a visit already carries
// (its Referer and User-Agent), so that the stats flush, not the request path, pays for them.
// It holds classification only: no storage, no HTTP.
package breakdown

// Dimensions a breakdown counts visits by, as stored in visit_breakdowns.dimension.
const (
	Referrer = "referrer"
	Device   = "device"
	Country  = "country"
)
