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
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// CountryLookup finds the country of a client's address, for the visit breakdowns. Country
// must not block: it is called while the client waits for its redirect.
type CountryLookup interface {
	// Country is the address's ISO 3166-1 alpha-2 code, or "" when it is not known.
	Country(ip netip.Addr) string
}

// GeoDatabase is a MaxMind-format database (GeoLite2-Country or -City, GeoIP2, or any other
// with a country.iso_code field) mapped into memory. A lookup walks a binary tree in that
// memory, about 1 µs: cheap beside a redirect, and only paid when a database is loaded.
type GeoDatabase struct {
	r *maxminddb.Reader
}

// OpenGeoDatabase maps the database at path; Close unmaps it.
func OpenGeoDatabase(path string) (*GeoDatabase, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database: %w", err)
	}
	return &GeoDatabase{r: r}, nil
}

// Country is ip's country as the database has it, "" for an address it does not cover
// (private ranges, loopback) or a record without a two-letter code.
func (g *GeoDatabase) Country(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	var code string
	if err := g.r.Lookup(ip).DecodePath(&code, "country", "iso_code"); err != nil || !isCountryCode(code) {
		return ""
	}
	return code
}

// Close releases the database's memory.
func (g *GeoDatabase) Close() error { return g.r.Close() }

// isCountryCode reports whether s is two upper-case ASCII letters, all a breakdown stores.
func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
