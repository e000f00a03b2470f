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

package main

import (
	"log/slog"

	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// openGeo maps the geo database of --geoip-database, if one is given and visits are counted:
// without it, visits carry no country and the request path pays nothing for one.
func (d *deps) openGeo(o options, log *slog.Logger) error {
	if o.geoDatabase == "" || !o.stats {
		return nil
	}
	geo, err := redirect.OpenGeoDatabase(o.geoDatabase)
	if err != nil {
		return err
	}
	d.geo = geo
	log.Info("Counting visits by country", "geoDatabase", o.geoDatabase)
	return nil
}

// countries is the geo database, or nil without one; never a nil *GeoDatabase in a non-nil
// interface.
func (d *deps) countries() redirect.CountryLookup {
	if d.geo == nil {
		return nil
	}
	return d.geo
}
