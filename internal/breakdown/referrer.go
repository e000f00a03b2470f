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

import "strings"

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
//
// The host is cut out of the text rather than by url.Parse, which allocates the whole URL: the
// flush does this for every visit.
func ReferrerDomain(referer string) string {
	if referer == "" {
		return Direct
	}
	_, rest, ok := strings.Cut(referer, "://")
	if !ok {
		return Other
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:] // user information
	}
	host := hostOnly(rest)
	host = strings.TrimPrefix(strings.TrimSuffix(strings.ToLower(host), "."), "www.")
	if host == "" || len(host) > maxDomain || strings.ContainsAny(host, " %\x00\t\r\n[]") {
		return Other
	}
	return host
}

// hostOnly drops the port of host[:port], the brackets of an IPv6 literal included.
func hostOnly(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.IndexByte(hostport, ']'); i > 0 {
			return hostport[1:i]
		}
		return ""
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		return hostport[:i]
	}
	return hostport
}

// Named reports whether a referrer value is a domain, one of the link-day's top ones, rather
// than Direct or Other.
func Named(value string) bool { return value != Direct && value != Other }
