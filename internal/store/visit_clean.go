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

package store

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Bounds, in bytes, of the text fields stored in visit_logs.
const (
	maxUserAgent = 512
	maxReferer   = 1024
)

// cleanText returns s as valid UTF-8 without NUL and at most limit bytes long, as PostgreSQL text
// requires and a bounded row wants: invalid bytes and NUL become U+FFFD, and what does not fit
// is cut at a character boundary. Clean input is returned as is, without allocating.
func cleanText(s string, limit int) string {
	if len(s) <= limit && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(min(len(s), limit))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == 0 {
			r = utf8.RuneError
		}
		if sb.Len()+utf8.RuneLen(r) > limit {
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// anonymize zeroes the host part of a client address before it is stored: the last octet of
// IPv4, the last 80 bits of IPv6. An IPv4-mapped IPv6 address is stored as IPv4; zones are
// dropped. The zero Addr stays zero.
func anonymize(ip netip.Addr) netip.Addr {
	if !ip.IsValid() {
		return ip
	}
	ip = ip.Unmap().WithZone("")
	keep := 48
	if ip.Is4() {
		keep = 24
	}
	p, _ := ip.Prefix(keep) // cannot fail: a valid address and a length within its size
	return p.Addr()
}
