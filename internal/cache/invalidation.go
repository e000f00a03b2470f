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

package cache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Channel is the Redis pub/sub channel invalidations are published on (DESIGN.md §4).
const Channel = "shortlink:invalidate"

// Invalidation says that the link (Domain, Code) changed at Version: every cached copy older
// than Version is stale.
//
// On the wire it is "<version>:<domain>:<code>", e.g. "42:go.example.com:docs", or "42::docs"
// for the default domain: version in decimal without sign or leading zeros, domain in normalized
// form (a-z, 0-9, '-', '.'), code a valid short code. Neither domain nor code can contain ':', so
// the three fields split unambiguously.
type Invalidation struct {
	Domain  string
	Code    string
	Version int64
}

// String returns the wire form, which ParseInvalidation reads back.
func (inv Invalidation) String() string {
	return strconv.FormatInt(inv.Version, 10) + ":" + inv.Domain + ":" + inv.Code
}

var errBadInvalidation = errors.New("malformed invalidation")

// ParseInvalidation reads the wire form of an Invalidation. It accepts exactly what String
// writes for a valid Invalidation and refuses everything else.
func ParseInvalidation(s string) (Invalidation, error) {
	v, rest, ok1 := strings.Cut(s, ":")
	domain, code, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return Invalidation{}, fmt.Errorf("%w %q: want version:domain:code", errBadInvalidation, s)
	}
	version, err := parseVersion(v)
	if err != nil {
		return Invalidation{}, fmt.Errorf("%w %q: %w", errBadInvalidation, s, err)
	}
	if err := checkKey(domain, code); err != nil {
		return Invalidation{}, fmt.Errorf("%w %q: %w", errBadInvalidation, s, err)
	}
	return Invalidation{Domain: domain, Code: code, Version: version}, nil
}

// parseVersion reads a positive decimal without sign or leading zeros, the only form String
// writes, so every version has one spelling.
func parseVersion(s string) (int64, error) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, fmt.Errorf("version %q is not a positive decimal", s)
	}
	version, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", s, err)
	}
	return version, nil
}

// Publish announces inv on Channel. Delivery is best effort (pub/sub keeps nothing for a
// subscriber that is away); redirectors also poll PostgreSQL for changes.
func (c *Cache) Publish(ctx context.Context, inv Invalidation) error {
	if err := checkKey(inv.Domain, inv.Code); err != nil {
		return fmt.Errorf("publish invalidation: %w", err)
	}
	if inv.Version < 1 {
		return fmt.Errorf("publish invalidation: version %d is not positive", inv.Version)
	}
	if err := c.rdb.Publish(ctx, Channel, inv.String()).Err(); err != nil {
		return fmt.Errorf("publish invalidation %s: %w", inv, err)
	}
	return nil
}
