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

package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses a comma-separated list of CIDRs ("10.0.0.0/8, fd00::/8"); a bare
// address is a /32 or /128. Empty entries are skipped, so "" trusts no proxy.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ClientIP returns the address of the client that sent r: the peer, or — only when the peer is
// one of the trusted proxies — the right-most X-Forwarded-For address that is not itself a
// trusted proxy. Addresses left of that one were written by the client and prove nothing. A
// header that cannot be read that far is ignored in favour of the peer, and a chain of trusted
// proxies only gives its left-most. The result is invalid only when the peer address is (a Unix
// socket, say).
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostPort(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	hops := forwardedFor(r.Header)
	if hops == nil {
		return peer
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHostPort(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return peer
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client
}

// forwardedFor splits every X-Forwarded-For header, in order, into its hops; nil without one.
func forwardedFor(h http.Header) []string {
	values := h.Values("X-Forwarded-For")
	if len(values) == 0 {
		return nil
	}
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}

// parseHostPort reads "ip", "ip:port" or "[ipv6]:port", dropping any zone and unmapping
// IPv4-in-IPv6, so one client has one address; anything else is invalid.
func parseHostPort(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
