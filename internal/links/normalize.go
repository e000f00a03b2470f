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
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on targets and domains (DESIGN.md §3).
const (
	// MaxTargetLength bounds a target in bytes, before and after normalization.
	MaxTargetLength = 2048
	// MaxDomainLength bounds a host name in its punycode form (RFC 1035).
	MaxDomainLength = 253
	// maxLabelLength bounds one dot-separated label (RFC 1035).
	maxLabelLength = 63
	// maxHostInput bounds a host before IDNA processing, so hostile input costs little;
	// Unicode input may legitimately be longer in bytes than its punycode.
	maxHostInput = 1024
)

// NormalizeTarget returns raw as the canonical target URL, or a *FieldError (Field "target",
// Err ErrInvalidTarget; rename it with WithField for another field).
//
// A target must be an absolute http or https URL with a host, at most MaxTargetLength bytes,
// without whitespace, control or invisible formatting characters, and without user-info
// ("https://bank.com@evil.example/" is a phishing classic). The scheme and host are lower-cased,
// a Unicode host becomes punycode, an IP address takes the one form a browser gives it
// (http://0x7f.1/ is http://127.0.0.1/; a host ending in a number that is no valid IPv4 address
// is refused, see host.go), an explicit port is kept as given (even a default one), and
// non-ASCII bytes after the host are percent-encoded, so the result is printable ASCII and can
// be sent as a Location header unchanged. The rest of the URL is kept byte for byte.
func NormalizeTarget(raw string) (string, error) {
	if err := checkTargetText(raw); err != nil {
		return "", err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", invalidTarget("must be a valid URL")
	}
	if err := checkTargetParts(u); err != nil {
		return "", err
	}
	host, err := targetHost(u)
	if err != nil {
		return "", err
	}
	out := strings.ToLower(u.Scheme) + "://" + host + escapeNonASCII(afterAuthority(raw))
	if len(out) > MaxTargetLength {
		return "", invalidTarget("must be at most 2048 bytes once normalized")
	}
	return out, nil
}

func checkTargetText(raw string) error {
	switch {
	case raw == "":
		return invalidTarget("must not be empty")
	case len(raw) > MaxTargetLength:
		return invalidTarget("must be at most 2048 bytes")
	case !utf8.ValidString(raw):
		return invalidTarget("must be valid UTF-8")
	case strings.IndexFunc(raw, invisible) >= 0:
		return invalidTarget("must not contain whitespace or control characters")
	}
	return nil
}

// invisible reports runes that let a URL look different from what it is: whitespace, controls
// and formatting characters such as zero-width spaces and bidirectional overrides.
func invisible(r rune) bool {
	if r < utf8.RuneSelf { // every target passes here byte by byte: ASCII has no Cf, and its
		return r <= ' ' || r == 0x7f // spaces and controls are these
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

func checkTargetParts(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return invalidTarget("must be an absolute URL")
	case scheme != "http" && scheme != "https":
		return invalidTarget("must use http or https")
	case u.User != nil:
		return invalidTarget("must not contain user-info (user:password@)")
	case u.Host == "":
		return invalidTarget("must have a host")
	}
	return nil
}

// targetHost returns u's host and port in canonical form.
func targetHost(u *url.URL) (string, error) {
	var host string
	if strings.HasPrefix(u.Host, "[") {
		v6, ok := ipv6Host(u.Hostname())
		if !ok {
			return "", invalidTarget("must have a valid IPv6 address between brackets")
		}
		host = v6
	} else {
		name, reason := hostName(u.Hostname())
		if reason != "" {
			return "", invalidTarget("host " + reason)
		}
		host = name
	}
	port := u.Port()
	if port == "" {
		return host, nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", invalidTarget("port must be between 1 and 65535")
	}
	return host + ":" + port, nil
}

// afterAuthority returns what follows the host and port in raw: path, query and fragment.
// url.Parse ends the authority at the first '/', '?' or '#', and so does this; it is only called
// once url.Parse has found a host, so raw has the form scheme "://" authority rest.
func afterAuthority(raw string) string {
	rest := raw[strings.Index(raw, "://")+len("://"):]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return rest[i:]
	}
	return ""
}

func escapeNonASCII(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
			}
			writePercent(&b, s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// NormalizeDomain returns raw as a canonical served or blocked domain: a lower-case host name
// without port or trailing dot, at most MaxDomainLength characters, labels of 1 to 63 characters
// of [a-z0-9-] that neither start nor end with '-'. Unicode names are accepted and returned as
// punycode; IPv4 addresses in any spelling a browser accepts are returned in dotted decimal.
// Errors are *FieldError with Field "domain" and Err ErrInvalidDomain.
func NormalizeDomain(raw string) (string, error) {
	if strings.Contains(raw, ":") {
		return "", invalidDomain("must not include a port")
	}
	name, reason := hostName(raw)
	if reason != "" {
		return "", invalidDomain(reason)
	}
	return name, nil
}

func invalidDomain(reason string) error {
	return &FieldError{Field: "domain", Reason: reason, Err: ErrInvalidDomain}
}

// hostName converts a host name to lower-case punycode under a strict IDNA profile, then checks
// the result itself, so the rules hold whatever the IDNA library allows. A name whose last
// label is a number is an IPv4 address, as in a browser (host.go): it is returned in dotted
// decimal, or refused when it is not a valid address. It returns a reason
// (completing "host ..." or "domain: ...") instead of an error so each caller picks the class.
func hostName(raw string) (string, string) {
	switch {
	case raw == "":
		return "", "must not be empty"
	case len(raw) > maxHostInput:
		return "", "must be at most 253 characters"
	case !utf8.ValidString(raw) || strings.IndexFunc(raw, invisible) >= 0:
		return "", "must be valid UTF-8 without whitespace or control characters"
	case strings.HasSuffix(raw, "."):
		return "", "must not end with a dot"
	}
	profile := strictIDNA
	ascii, err := profile.ToASCII(raw)
	if err == nil {
		// The punycode must decode back under the same rules, or it is not canonical.
		_, err = profile.ToUnicode(ascii)
	}
	if err != nil {
		return "", "must be a valid host name (" + err.Error() + ")"
	}
	if endsInNumber(ascii) {
		addr, ok := parseIPv4(ascii)
		if !ok {
			return "", reasonNotIPv4
		}
		return addr.String(), ""
	}
	if reason := checkLabels(ascii); reason != "" {
		return "", reason
	}
	return ascii, ""
}

// strictIDNA is UTS #46 lookup processing (lower-casing and width mapping, as browsers do)
// with every check on: STD3 characters, hyphen rules, joiners, bidi and DNS lengths. The
// profile is spelled out because idna.Lookup's configuration may change between versions.
// A Profile is immutable, so one serves every call (building it allocated on each).
var strictIDNA = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
)

func checkLabels(name string) string {
	if len(name) > MaxDomainLength {
		return "must be at most 253 characters"
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > maxLabelLength {
			return "must have labels of 1 to 63 characters"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "must have labels that neither start nor end with '-'"
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "must have labels of a-z, 0-9 and '-' only"
			}
		}
	}
	return ""
}
