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

package breakdown

import (
	"net/url"
	"strings"
)

// Referrer values that are not a domain: a visit without a Referer (typed, bookmarked, from an
// app or a page whose referrer policy sends none), and the domains summed past a link-day's
// top ones, or whose Referer names no host.
const (
	Direct = "(direct)"
	Other  = "(other)"
)

// maxDomain is the longest DNS name; a longer host is no domain and counts as Other.
const maxDomain = 253

// ReferrerDomain is the host a Referer names, lower-cased, without port, trailing dot or a
// leading "www." (the same site either way), Direct for none, Other for one that names no
// host. Browsers send only the origin across sites by default, so the host is what there is.
func ReferrerDomain(referer string) string {
	if referer == "" {
		return Direct
	}
	u, err := url.Parse(referer)
	if err != nil {
		return Other
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	host = strings.TrimPrefix(host, "www.")
	if host == "" || len(host) > maxDomain || strings.ContainsAny(host, " \x00") {
		return Other
	}
	return host
}

// Named reports whether a referrer value is a domain, one of the link-day's top ones, rather
// than Direct or Other.
func Named(value string) bool { return value != Direct && value != Other }
