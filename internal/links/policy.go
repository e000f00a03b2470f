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
	"net/url"
	"strings"
)

// Policy is the configured URL policy: which domains we serve and which hosts we refuse to
// redirect to. It is immutable once built, so it is safe for concurrent use; to change the
// configuration, build a new Policy and swap it in (for example through an
// atomic.Pointer[Policy]), and requests in flight finish with the old one.
type Policy struct {
	served  map[string]struct{}
	blocked map[string]struct{}
}

// NewPolicy builds a Policy from the served domains (every host the redirector answers on,
// including the default domain's) and the blocklist. Every name is normalized with
// NormalizeDomain; the error names the first bad one.
func NewPolicy(served, blocked []string) (*Policy, error) {
	s, err := domainSet("served", served)
	if err != nil {
		return nil, err
	}
	b, err := domainSet("blocked", blocked)
	if err != nil {
		return nil, err
	}
	return &Policy{served: s, blocked: b}, nil
}

func domainSet(what string, names []string) (map[string]struct{}, error) {
	set := make(map[string]struct{}, len(names))
	for i, name := range names {
		d, err := NormalizeDomain(name)
		if err != nil {
			return nil, fmt.Errorf("%s domain %d (%q): %w", what, i+1, name, err)
		}
		set[d] = struct{}{}
	}
	return set, nil
}

// Serves reports whether domain, in normalized form (lower-case, no port), is a served domain.
// A nil Policy serves nothing.
func (p *Policy) Serves(domain string) bool {
	if p == nil {
		return false
	}
	_, ok := p.served[domain]
	return ok
}

// CheckDomain refuses a link domain that is not served; "" (the default domain) always passes.
// Errors are *FieldError with Field "domain" and Err ErrInvalidDomain.
func (p *Policy) CheckDomain(domain string) error {
	if domain == "" {
		return nil
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return err
	}
	if !p.Serves(d) {
		return invalidDomain("must be a served domain")
	}
	return nil
}

// Check refuses a target the platform must not redirect to. Errors are *FieldError with Field
// "target" wrapping ErrInvalidTarget (not an acceptable URL, see NormalizeTarget, or a
// mixed-script or whole-script confusable host label) or ErrBlocked (one of our served
// domains, which would loop, or a host at or under a blocklisted domain). A nil Policy only
// checks the URL and its host's scripts.
func (p *Policy) Check(target string) error {
	normalized, err := NormalizeTarget(target)
	if err != nil {
		return err
	}
	return p.CheckNormalized(normalized)
}

// CheckNormalized is Check for a target already in canonical form, as NormalizeTarget and
// Link.Normalized leave it: NormalizeTarget is idempotent, so normalizing it again would
// change nothing, and a batch of links would pay for it a thousand times.
func (p *Policy) CheckNormalized(normalized string) error {
	u, err := url.Parse(normalized)
	if err != nil {
		return invalidTarget("must be a valid URL")
	}
	host := u.Hostname()
	if label := mixedScriptLabel(host); label != "" {
		return invalidTarget(fmt.Sprintf("host label %q mixes scripts (possible homograph)", label))
	}
	if label, script := wholeScriptConfusable(host); label != "" {
		return invalidTarget(fmt.Sprintf("host label %q is all %s letters that look Latin (possible homograph)", label, script))
	}
	if p.Serves(host) {
		return blocked("host " + host + " is served by this shortener (redirect loop)")
	}
	if d, ok := p.blockedBy(host); ok {
		return blocked("host " + host + " is blocked (" + d + ")")
	}
	return nil
}

// blockedBy returns the blocklist entry covering host: host itself or a parent domain, so that
// blocking example.com blocks a.example.com but not notexample.com. Hosts come normalized, so an
// IPv4 address has one spelling; an IPv4-mapped IPv6 address ([::ffff:7f00:1]) reaches the
// IPv4 address it maps, and is checked as that address.
func (p *Policy) blockedBy(host string) (string, bool) {
	if p == nil {
		return "", false
	}
	if v4, ok := mappedIPv4(host); ok {
		host = v4
	}
	for name := host; ; {
		if _, ok := p.blocked[name]; ok {
			return name, true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return "", false
		}
		name = name[i+1:]
	}
}

func blocked(reason string) error {
	return &FieldError{Field: "target", Reason: reason, Err: ErrBlocked}
}
