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
	"net/netip"
	"strconv"
	"strings"
)

// This file reads hosts the way browsers do, after the WHATWG URL standard's host parser
// (https://url.spec.whatwg.org/#host-parsing). It matters for addresses: a browser opens
// http://2130706433/, http://0x7f.1/ and http://0177.0.0.1/ as 127.0.0.1, and refuses
// http://1.2.3.08/ or http://foo.09/, because a host whose last label is a number is an IPv4
// address or nothing. Storing the browser's form makes one blocklist entry cover every spelling
// of an address, and refusing what a browser refuses keeps links that can never open out.

// reasonNotIPv4 completes "host ..." for a host a browser would refuse to open.
const reasonNotIPv4 = "ends in a number but is not a valid IPv4 address, so a browser cannot open it"

// endsInNumber is the standard's "ends in a number" check on an ASCII host: its last label
// (ignoring one trailing dot) is all decimal digits or parses as an IPv4 number (0x… hex).
// Such a host must be an IPv4 address.
func endsInNumber(host string) bool {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// parseIPv4 is the standard's IPv4 parser: one to four dot-separated numbers, each decimal,
// octal (leading 0) or hex (0x), the last filling the bytes the others leave. "127.1" is
// 127.0.0.1 and "2130706433" is 127.0.0.1 too.
func parseIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var addr uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			addr |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return netip.Addr{}, false
		}
		addr |= n
	}
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), true
}

// ipv4Number is the standard's IPv4 number parser. A value past 2^32 is kept at 2^32+1:
// it is still a number (so the host ends in one) but no valid address holds it.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d, ok := digitValue(s[i])
		if !ok || d >= base {
			return 0, false
		}
		n = min(n*base+d, 1<<32+1)
	}
	return n, true // "0x" and "0" alone are zero
}

func digitValue(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// ipv6Host parses the address between a URL's brackets and returns it in the form browsers
// serialize (the standard's IPv6 serializer): lower-case hex, the first longest run of two or
// more zero pieces as "::", and no dotted tail, so [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
func ipv6Host(inner string) (string, bool) {
	addr, err := netip.ParseAddr(inner)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return "", false
	}
	return "[" + serializeIPv6(addr) + "]", true
}

func serializeIPv6(addr netip.Addr) string {
	b := addr.As16()
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	start, n := longestZeroRun(pieces)
	var s strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			s.WriteString("::")
			i += n - 1
			continue
		}
		if i > 0 && i != start+n {
			s.WriteByte(':')
		}
		s.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
	}
	return s.String()
}

// longestZeroRun returns the start and length of the first longest run of zero pieces, or
// (-1, 0) when no run is at least two long: a single zero piece is written as 0.
func longestZeroRun(pieces [8]uint16) (start, n int) {
	start = -1
	for i := 0; i < 8; {
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > n && j-i >= 2 {
			start, n = i, j-i
		}
		i = max(j, i+1)
	}
	return start, n
}

// mappedIPv4 returns the IPv4 address an IPv4-mapped IPv6 host (::ffff:a.b.c.d, brackets
// optional) reaches, so that blocking an IPv4 address blocks this spelling of it as well.
func mappedIPv4(host string) (string, bool) {
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil || !addr.Is4In6() {
		return "", false
	}
	return addr.Unmap().String(), true
}
