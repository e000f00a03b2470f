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

package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
)

// proxies are a load balancer range and one IPv6 ingress.
const proxies = "10.0.0.0/8, 2001:db8:1::/48"

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := api.ParseTrustedProxies(proxies)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string // one entry per header line
		trusted []netip.Prefix
		want    string
	}{
		{"peer only", "198.51.100.7:4242", nil, trusted, "198.51.100.7"},
		{"untrusted peer ignores the header", "198.51.100.7:4242", []string{"203.0.113.9"}, trusted, "198.51.100.7"},
		{"no trusted proxies ignores the header", "10.0.0.1:4242", []string{"203.0.113.9"}, nil, "10.0.0.1"},
		{"trusted peer, one hop", "10.0.0.1:4242", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"right-most untrusted hop wins", "10.0.0.1:4242", []string{"1.1.1.1, 203.0.113.9, 10.2.3.4"}, trusted, "203.0.113.9"},
		{"a spoofed left part is ignored", "10.0.0.1:4242", []string{"not-an-ip, 6.6.6.6, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"several header lines read in order", "10.0.0.1:4242", []string{"1.1.1.1", "203.0.113.9, 10.9.9.9"}, trusted, "203.0.113.9"},
		{"only trusted hops gives the left-most", "10.0.0.1:4242", []string{"10.3.3.3, 10.2.2.2"}, trusted, "10.3.3.3"},
		{"malformed right part falls back to the peer", "10.0.0.1:4242", []string{"203.0.113.9, garbage"}, trusted, "10.0.0.1"},
		{"empty hop falls back to the peer", "10.0.0.1:4242", []string{"203.0.113.9,"}, trusted, "10.0.0.1"},
		{"empty header falls back to the peer", "10.0.0.1:4242", []string{""}, trusted, "10.0.0.1"},
		{"hop with a port", "10.0.0.1:4242", []string{"203.0.113.9:5555"}, trusted, "203.0.113.9"},
		{"IPv6 hop", "[2001:db8:1::5]:443", []string{"2001:db8:ffff::1"}, trusted, "2001:db8:ffff::1"},
		{"bracketed IPv6 hop with a port", "10.0.0.1:4242", []string{"[2001:db8:ffff::1]:80"}, trusted, "2001:db8:ffff::1"},
		{"IPv4-mapped peer is unmapped", "[::ffff:10.0.0.1]:4242", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"IPv4-mapped hop is unmapped", "10.0.0.1:4242", []string{"::ffff:203.0.113.9"}, trusted, "203.0.113.9"},
		{"zone dropped", "[fe80::1%eth0]:4242", nil, trusted, "fe80::1"},
		{"peer without a port", "198.51.100.7", nil, trusted, "198.51.100.7"},
		{"unreadable peer", "@", []string{"203.0.113.9"}, trusted, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/links", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := api.ClientIP(r, tc.trusted).String(); got != tc.want {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := api.ParseTrustedProxies(" 10.1.2.3/8 ,, 192.0.2.1, ::1, ::ffff:172.16.0.0/108 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "::1/128", "172.16.0.0/12"}
	if len(got) != len(want) {
		t.Fatalf("ParseTrustedProxies = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("ParseTrustedProxies = %v, want %v", got, want)
		}
	}
	if got, err := api.ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Fatalf(`ParseTrustedProxies("") = %v, %v; want none`, got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,nope"} {
		if _, err := api.ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
}

// FuzzClientIP: whatever the header says, the answer is the peer or one of the header's hops,
// the header counts only behind a trusted peer, and an untrusted hop is never skipped over.
func FuzzClientIP(f *testing.F) {
	for _, seed := range [][2]string{
		{"10.0.0.1:1", "203.0.113.9"}, {"10.0.0.1:1", "1.1.1.1, 203.0.113.9, 10.2.3.4"},
		{"198.51.100.7:1", "203.0.113.9"}, {"[2001:db8:1::5]:443", "[2001:db8::1]:80, x"},
		{"10.0.0.1:1", ",,,"}, {"@", "1.2.3.4"}, {"10.0.0.1:1", "10.1.1.1,10.2.2.2"},
	} {
		f.Add(seed[0], seed[1])
	}
	trusted, err := api.ParseTrustedProxies(proxies)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got := api.ClientIP(r, trusted)
		r.Header.Del("X-Forwarded-For")
		peerAddr := api.ClientIP(r, trusted)
		if got == peerAddr {
			return
		}
		if !inTrusted(peerAddr, trusted) {
			t.Fatalf("peer %q is not trusted, yet the header %q gave %v", peer, xff, got)
		}
		hops := strings.Split(xff, ",")
		found := false
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				ap, err := netip.ParseAddrPort(strings.TrimSpace(hops[i]))
				if err != nil {
					t.Fatalf("header %q: an unreadable hop was passed over to reach %v", xff, got)
				}
				a = ap.Addr()
			}
			if a.WithZone("").Unmap() == got {
				found = true
				break
			}
			if !inTrusted(a.WithZone("").Unmap(), trusted) {
				t.Fatalf("header %q: untrusted hop %v passed over to reach %v", xff, a, got)
			}
		}
		if !found {
			t.Fatalf("header %q, peer %q: %v is neither the peer nor a hop", xff, peer, got)
		}
	})
}

func inTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
