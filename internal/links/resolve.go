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
	"strings"
	"time"
)

// Outcome is what a request for a known link comes to.
type Outcome uint8

// The outcomes. The zero value is NotFound, so a forgotten Decision never redirects.
const (
	// NotFound: the link is suspended or not valid yet (an unknown code is the caller's case).
	NotFound Outcome = iota
	// Gone: the link expired and has no ExpiredTarget.
	Gone
	// Redirect: answer Decision.Status with Decision.Location.
	Redirect
	// Invalid: the stored link cannot be served safely (a tampered or corrupt row).
	Invalid
)

// String returns the outcome as the redirector's metric label `result` spells it.
func (o Outcome) String() string {
	switch o {
	case NotFound:
		return "not_found"
	case Gone:
		return "gone"
	case Redirect:
		return "redirect"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// Decision is how the redirector answers a request for a link.
type Decision struct {
	Outcome Outcome
	// Status is the HTTP status: the link's redirect type for Redirect, 404 for NotFound, 410 for
	// Gone and 500 for Invalid (a fault on our side, not the client's).
	Status int
	// Location is set only for Redirect. It is always an http or https URL made of printable
	// ASCII, so it can go into a header as it is.
	Location string
}

// Decide decides how the link answers a request at now whose raw query string (without '?')
// is rawQuery. It re-checks what it puts in Location rather than trusting the row, because the
// row may have been edited by hand: a Location is never anything but http(s) and never carries
// control characters, whatever the store holds.
func (l Link) Decide(now time.Time, rawQuery string) Decision {
	return l.DecidePath(now, "", rawQuery)
}

// DecidePath is Decide for a request whose path goes on after the code: rest is that remainder
// as the client escaped it, from the '/' after the code on ("" for a request of /{code} alone).
// A link without ForwardPath does not answer such a request (NotFound); one with it appends
// rest to the target's path, re-encoded so that it cannot carry a control, a space, a non-ASCII
// byte, or a '?' or '#' that would move it out of the path. The caller refuses "." and ".."
// segments (the redirector answers only clean paths), so rest cannot climb out of the target's
// path.
func (l Link) DecidePath(now time.Time, rest, rawQuery string) Decision {
	if rest != "" && !l.ForwardPath {
		return Decision{Outcome: NotFound, Status: http.StatusNotFound}
	}
	if l.Suspended || (!l.ValidSince.IsZero() && now.Before(l.ValidSince)) {
		return Decision{Outcome: NotFound, Status: http.StatusNotFound}
	}
	if !l.ValidUntil.IsZero() && !now.Before(l.ValidUntil) {
		return l.expired(rest, rawQuery)
	}
	return l.decideTarget(l.Target, rest, rawQuery)
}

// Exhausted is how the link answers a request after its MaxVisits: as an expired link does,
// with a redirect to ExpiredTarget or Gone. The caller has already had Redirect from
// DecidePath, so the link is otherwise served.
func (l Link) Exhausted(rest, rawQuery string) Decision {
	return l.expired(rest, rawQuery)
}

func (l Link) expired(rest, rawQuery string) Decision {
	if l.ExpiredTarget == "" {
		return Decision{Outcome: Gone, Status: http.StatusGone}
	}
	return l.decideTarget(l.ExpiredTarget, rest, rawQuery)
}

// decideTarget is the redirect to target, with rest and the query forwarded as the link says.
func (l Link) decideTarget(target, rest, rawQuery string) Decision {
	if !ValidRedirectType(l.RedirectType) || !safeLocation(target) {
		return Decision{Outcome: Invalid, Status: http.StatusInternalServerError}
	}
	if rest != "" {
		target = appendPath(target, rest)
	}
	if l.ForwardQuery && rawQuery != "" {
		target = appendQuery(target, rawQuery)
	}
	return Decision{Outcome: Redirect, Status: l.RedirectType, Location: target}
}

// safeLocation is the per-request guard: an http(s) scheme, a non-empty host, and only printable
// ASCII (NormalizeTarget percent-encodes everything else, so a valid row always passes).
func safeLocation(s string) bool {
	rest, ok := cutHTTPScheme(s)
	if !ok || rest == "" || strings.IndexByte("/\\?#", rest[0]) >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// cutHTTPScheme returns what follows "http://" or "https://" (in any case) in s.
func cutHTTPScheme(s string) (string, bool) {
	for _, prefix := range [...]string{"http://", "https://"} {
		if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			return s[len(prefix):], true
		}
	}
	return "", false
}

// appendQuery adds rawQuery to target's query, before any fragment, which is where a browser
// expects it: '?' if target has no query, '&' if it has one, nothing if it ends in '?' or '&'.
func appendQuery(target, rawQuery string) string {
	base, fragment, hasFragment := strings.Cut(target, "#")
	var b strings.Builder
	b.Grow(len(target) + len(rawQuery) + 1)
	b.WriteString(base)
	switch {
	case strings.IndexByte(base, '?') < 0:
		b.WriteByte('?')
	case !strings.HasSuffix(base, "?") && !strings.HasSuffix(base, "&"):
		b.WriteByte('&')
	}
	writeQuery(&b, rawQuery)
	if hasFragment {
		b.WriteByte('#')
		b.WriteString(fragment)
	}
	return b.String()
}

// writeQuery copies a client's query, percent-encoding what must not reach a header or would
// move the fragment: controls, spaces, non-ASCII bytes and '#'. net/http never hands us such a
// query today, but the Location invariant must not depend on that.
func writeQuery(b *strings.Builder, q string) {
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			writePercent(b, c)
		} else {
			b.WriteByte(c)
		}
	}
}

func writePercent(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0x0f])
}

// appendPath adds rest (which starts with '/') to target's path, before its query and fragment:
// "https://docs.example.com/guide" and "/a/b" make "https://docs.example.com/guide/a/b", as a
// go link does. A target path ending in '/' does not get a second one.
func appendPath(target, rest string) string {
	end := strings.IndexAny(target, "?#")
	if end < 0 {
		end = len(target)
	}
	base, tail := target[:end], target[end:]
	base = strings.TrimSuffix(base, "/")
	var b strings.Builder
	b.Grow(len(target) + 3*len(rest))
	b.WriteString(base)
	writePath(&b, rest)
	b.WriteString(tail)
	return b.String()
}

// writePath copies a client's escaped path, keeping what RFC 3986 allows in a path (unreserved
// characters, sub-delimiters, ':', '@', '/' and well-formed %XX escapes) and percent-encoding
// every other byte, so the Location stays printable ASCII and the path cannot end early.
func writePath(b *strings.Builder, p string) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case pathByte(c):
			b.WriteByte(c)
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		default:
			writePercent(b, c)
		}
	}
}

// pathByte reports whether c may stand unescaped in a URL path (RFC 3986 pchar and '/').
func pathByte(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
