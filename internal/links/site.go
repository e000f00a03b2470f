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

package links

import (
	"fmt"
	"strings"
)

// Site is what a Shortlink installation serves: a default domain, further domains, and the
// base URL of the default domain's short URLs. The manager, the redirector and the create API
// each build one from their flags, so the rules below are written once:
//
//   - links on the default domain are stored under the domain "" (a ShortLink without
//     spec.domain, an API link without a domain), so that renaming the default domain moves no
//     row; a link on any other served domain is stored under that domain;
//   - a short URL is the base URL (default https://<default domain>) and the code for the
//     default domain, https://<domain>/<code> for any other;
//   - the URL policy serves the default domain and the further ones (PolicyFile).
type Site struct {
	defaultDomain string
	domains       []string
	baseURL       string
}

// SplitDomains reads a comma-separated list of domains, as a --domains flag gives it: each
// name trimmed, empty ones dropped.
func SplitDomains(list string) []string {
	var out []string
	for d := range strings.SplitSeq(list, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// NewSite checks and normalizes the domains (NormalizeDomain: punycode, lower case) and keeps
// baseURL without a trailing "/"; an empty baseURL is https://<defaultDomain>. A domain that is
// not a valid name is an error naming it.
func NewSite(defaultDomain string, domains []string, baseURL string) (Site, error) {
	def, err := NormalizeDomain(defaultDomain)
	if err != nil {
		return Site{}, fmt.Errorf("default domain %q: %w", defaultDomain, err)
	}
	s := Site{defaultDomain: def, baseURL: strings.TrimRight(baseURL, "/")}
	for _, d := range domains {
		n, err := NormalizeDomain(d)
		if err != nil {
			return Site{}, fmt.Errorf("served domain %q: %w", d, err)
		}
		s.domains = append(s.domains, n)
	}
	if s.baseURL == "" {
		s.baseURL = "https://" + def
	}
	return s, nil
}

// MustSite is NewSite without a base URL for domains known to be valid, such as constants in
// tests; it panics on an invalid one.
func MustSite(defaultDomain string, domains ...string) Site {
	s, err := NewSite(defaultDomain, domains, "")
	if err != nil {
		panic(err)
	}
	return s
}

// DefaultDomain is the normalized default domain.
func (s Site) DefaultDomain() string { return s.defaultDomain }

// BaseURL is the start of the default domain's short URLs, without a trailing "/".
func (s Site) BaseURL() string { return s.baseURL }

// Domains lists the further served domains, normalized.
func (s Site) Domains() []string { return s.domains }

// Served lists every served domain, normalized: the default one first.
func (s Site) Served() []string { return append([]string{s.defaultDomain}, s.domains...) }

// StoredDomain is the domain links on domain (normalized, or "" for the default) are stored
// under: "" for the default domain, domain itself for any other.
func (s Site) StoredDomain(domain string) string {
	if domain == s.defaultDomain {
		return ""
	}
	return domain
}

// ShortURL is the short URL of code on a stored domain ("" for the default domain).
func (s Site) ShortURL(storedDomain, code string) string {
	if storedDomain == "" {
		return s.baseURL + "/" + code
	}
	return "https://" + storedDomain + "/" + code
}

// PolicyFile builds the URL policy of the served domains and the blocklist file (see
// NewPolicyFile).
func (s Site) PolicyFile(blocklistFile string) (*PolicyFile, error) {
	return NewPolicyFile(s.Served(), blocklistFile)
}
