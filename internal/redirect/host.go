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

package redirect

import (
	"strings"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// hosts maps a request's normalised Host to the domain its links are stored under: a served
// domain to itself, the default domain to "".
type hosts map[string]string

// newHosts builds the map from the site's served domains, already in the form
// links.NormalizeDomain gives (punycode, lower-case). A zero Site serves nothing.
func newHosts(site links.Site) hosts {
	h := make(hosts, len(site.Domains())+1)
	for _, d := range site.Served() {
		if d != "" {
			h[d] = site.StoredDomain(d)
		}
	}
	return h
}

// domain returns the stored domain for a request's Host header, and whether it is served.
func (h hosts) domain(host string) (string, bool) {
	d, ok := h[normalizeHost(host)]
	return d, ok
}

// normalizeHost lower-cases a Host header and strips its port and trailing dots. It does not
// validate: whatever it returns is only looked up among the served domains. A Unicode name
// (browsers send punycode, but a client may not) becomes punycode, as configured domains are.
// It allocates only when the host has upper-case or non-ASCII letters.
func normalizeHost(h string) string {
	if strings.HasPrefix(h, "[") { // an IPv6 literal, with or without a port
		if i := strings.IndexByte(h, ']'); i >= 0 {
			h = h[:i+1]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimRight(h, ".")
	if !isASCII(h) {
		if d, err := links.NormalizeDomain(h); err == nil {
			return d
		}
	}
	return lowerASCII(h)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
