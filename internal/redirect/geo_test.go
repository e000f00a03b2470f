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
	"net/netip"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/geotest"
)

// A MaxMind-format database gives an address its country's two-letter code; an address it
// does not cover, an IPv6 one in an IPv4 database and no address at all get none.
func TestGeoDatabaseCountry(t *testing.T) {
	path := geotest.CountryDB(t, map[netip.Prefix]string{
		netip.MustParsePrefix("203.0.113.0/24"):  "NZ",
		netip.MustParsePrefix("198.51.100.0/25"): "DE",
		netip.MustParsePrefix("127.0.0.0/8"):     "SE",
	})
	geo, err := OpenGeoDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = geo.Close() })
	for _, tc := range []struct {
		ip   netip.Addr
		want string
	}{
		{netip.MustParseAddr("203.0.113.77"), "NZ"},
		{netip.MustParseAddr("198.51.100.1"), "DE"},
		{netip.MustParseAddr("198.51.100.200"), ""}, // the other half of the /24
		{netip.MustParseAddr("127.0.0.1"), "SE"},
		{netip.MustParseAddr("192.0.2.1"), ""},
		{netip.MustParseAddr("2001:db8::1"), ""},
		{netip.Addr{}, ""},
	} {
		if got := geo.Country(tc.ip); got != tc.want {
			t.Errorf("Country(%v) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if _, err := OpenGeoDatabase(path + ".missing"); err == nil {
		t.Error("OpenGeoDatabase of a missing file = nil error")
	}
}
