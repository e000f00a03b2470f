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
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits from the ShortLink API contract (DESIGN.md §3).
const (
	// CodePattern is the contract for short codes, for CRD markers, CEL rules and documentation.
	// ValidCode implements it without a regexp.
	CodePattern = `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`
	// MaxCodeLength is the longest code CodePattern accepts.
	MaxCodeLength = 64
	// MaxTags and MaxTagLength bound Link.Tags.
	MaxTags      = 16
	MaxTagLength = 63
	// DefaultRedirectType is used when a link does not say.
	DefaultRedirectType = http.StatusFound
	// ReservedCode is the one code a forwardPath link cannot have: /api/v1/… belongs to the
	// create API, so such a link would never see its forwarded paths. Codes cannot start with
	// '_' (CodePattern), which keeps /_/… reserved for every link.
	ReservedCode = "api"
)

// Link sources, stored in urls.source.
const (
	SourceK8s = "k8s"
	SourceAPI = "api"
)

// Link is one short link as every component sees it: the reconciler builds it from a ShortLink,
// the create API from a request, the store maps it to a urls row and the redirector resolves it.
//
// Times use the zero time.Time for "unset" rather than pointers, so a Link is a plain value that
// can be copied into caches and compared without nil checks; stores map SQL NULL to and from the
// zero time. The validity window is half-open: the link redirects from ValidSince (inclusive)
// until ValidUntil (exclusive).
type Link struct {
	// Domain is the host the link is served on in normalized form; "" is the default domain.
	Domain string
	// Code is the path segment; see ValidCode.
	Code string
	// Target is the normalized absolute http(s) URL to redirect to; see NormalizeTarget.
	Target string
	// RedirectType is the HTTP status of the redirect: 301, 302, 307 or 308.
	RedirectType int
	// ForwardQuery appends the request's query string to the target.
	ForwardQuery bool
	// ForwardPath appends the rest of the request's path after /{code}/ to the target's path.
	ForwardPath bool
	// ValidSince is when the link starts redirecting; zero means always.
	ValidSince time.Time
	// ValidUntil is when the link stops redirecting to Target; zero means never.
	ValidUntil time.Time
	// ExpiredTarget, when set, is where the link redirects from ValidUntil on, instead of Gone.
	ExpiredTarget string
	// MaxVisits, when above zero, is how many people's visits the link redirects to Target;
	// after them it answers as an expired link does. Zero means no limit.
	MaxVisits int64
	// Suspended links answer NotFound without being deleted.
	Suspended bool
	// Tags are free labels for the owner's bookkeeping.
	Tags []string
	// Source is SourceK8s or SourceAPI.
	Source string
	// Owner is the ShortLink's "namespace/name" for SourceK8s links.
	Owner string
	// OwnerUID is the ShortLink's UID, so a restored object with a new UID is told apart.
	OwnerUID string
	// Version is the global sequence value of the link's last write; caches keep the newest.
	Version int64
}

// ValidCode reports whether s matches CodePattern. The redirector calls it on every request
// before any lookup, so it is a byte loop rather than a regexp.
func ValidCode(s string) bool {
	if len(s) == 0 || len(s) > MaxCodeLength || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ValidRedirectType reports whether code is a redirect status a link may use. 303 is left out on
// purpose: it changes the method, which no short link wants.
func ValidRedirectType(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Normalized returns a copy of l with its domain and targets in canonical form and a zero
// RedirectType replaced by DefaultRedirectType, or a *FieldError for the first rule l breaks.
// Both the reconciler and the create API call it before writing, so stored links are canonical.
// It does not apply a Policy, which depends on configuration.
func (l Link) Normalized() (Link, error) {
	if !ValidCode(l.Code) {
		return Link{}, &FieldError{Field: "code", Reason: "must match " + CodePattern, Err: ErrInvalidCode}
	}
	if err := l.normalizeURLs(); err != nil {
		return Link{}, err
	}
	if l.RedirectType == 0 {
		l.RedirectType = DefaultRedirectType
	}
	if err := l.checkFields(); err != nil {
		return Link{}, err
	}
	l.Tags = slices.Clone(l.Tags)
	return l, nil
}

func (l *Link) normalizeURLs() error {
	var err error
	if l.Domain != "" {
		if l.Domain, err = NormalizeDomain(l.Domain); err != nil {
			return err
		}
	}
	if l.Target, err = NormalizeTarget(l.Target); err != nil {
		return err
	}
	if l.ExpiredTarget != "" {
		if l.ExpiredTarget, err = NormalizeTarget(l.ExpiredTarget); err != nil {
			return WithField(err, "expiredTarget")
		}
	}
	return nil
}

func (l *Link) checkFields() error {
	if !ValidRedirectType(l.RedirectType) {
		return invalidLink("redirectType", "must be one of 301, 302, 307, 308")
	}
	if !l.ValidSince.IsZero() && !l.ValidUntil.IsZero() && !l.ValidUntil.After(l.ValidSince) {
		return invalidLink("validUntil", "must be after validSince")
	}
	if l.MaxVisits < 0 {
		return invalidLink("maxVisits", "must be at least 1 (leave it out for no limit)")
	}
	if l.ForwardPath && l.Code == ReservedCode {
		return &FieldError{Field: "code", Reason: `must not be "api" when forwardPath is set: /api/v1/ is the create API`, Err: ErrInvalidCode}
	}
	if err := checkTags(l.Tags); err != nil {
		return err
	}
	return l.checkSource()
}

func checkTags(tags []string) error {
	if len(tags) > MaxTags {
		return invalidLink("tags", "must have at most 16 items")
	}
	for _, t := range tags {
		if t == "" || !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxTagLength {
			return invalidLink("tags", "each must be 1 to 63 characters of valid UTF-8")
		}
		if strings.IndexFunc(t, unicode.IsControl) >= 0 {
			return invalidLink("tags", "must not contain control characters")
		}
	}
	return nil
}

func (l *Link) checkSource() error {
	switch l.Source {
	case SourceAPI:
		return nil
	case SourceK8s:
		ns, name, ok := strings.Cut(l.Owner, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return invalidLink("owner", `must be "namespace/name" for a k8s link`)
		}
		return nil
	}
	return invalidLink("source", `must be "k8s" or "api"`)
}
