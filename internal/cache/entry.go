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
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// An entry is stored as one Redis string, "<version>|<payload>":
//
//   - version is the link's version in decimal, so the compare-version script reads it with a
//     string search and compares it without parsing the payload (and exactly, as a digit string,
//     where Lua's doubles would round past 2^53);
//   - payload is the link as compact JSON (field names of one or two letters, empty fields left
//     out), or empty for a tombstone.
//
// A string rather than a hash keeps Get to one GET and an entry to one allocation in Redis. The
// domain and code are in the key, so they are not repeated in the value.
const versionSep = "|"

// payload is the stored form of a links.Link without its key and version. Times are stored in
// UTC; a zero time is left out and reads back as the zero time.
type payload struct {
	Target        string    `json:"t"`
	RedirectType  int       `json:"r,omitempty"`
	ForwardQuery  bool      `json:"q,omitempty"`
	ValidSince    time.Time `json:"vs,omitzero"`
	ValidUntil    time.Time `json:"vu,omitzero"`
	ExpiredTarget string    `json:"e,omitempty"`
	Suspended     bool      `json:"x,omitempty"`
	Tags          []string  `json:"g,omitempty"`
	Source        string    `json:"s,omitempty"`
	Owner         string    `json:"o,omitempty"`
	OwnerUID      string    `json:"u,omitempty"`
}

var errBadEntry = errors.New("malformed cache entry")

// encodePayload returns the payload part of l's entry.
func encodePayload(l links.Link) (string, error) {
	b, err := json.Marshal(payload{
		Target: l.Target, RedirectType: l.RedirectType, ForwardQuery: l.ForwardQuery,
		ValidSince: l.ValidSince.UTC(), ValidUntil: l.ValidUntil.UTC(), ExpiredTarget: l.ExpiredTarget,
		Suspended: l.Suspended, Tags: l.Tags, Source: l.Source, Owner: l.Owner, OwnerUID: l.OwnerUID,
	})
	if err != nil {
		return "", fmt.Errorf("encode link: %w", err)
	}
	return string(b), nil
}

// decodeEntry parses a stored value into the entry for (domain, code).
func decodeEntry(domain, code, value string) (Entry, error) {
	v, body, ok := strings.Cut(value, versionSep)
	version, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || version < 1 {
		return Entry{}, fmt.Errorf("%w: bad version %q", errBadEntry, v)
	}
	e := Entry{Link: links.Link{Domain: domain, Code: code, Version: version}}
	if body == "" {
		e.Deleted = true
		return e, nil
	}
	var p payload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", errBadEntry, err)
	}
	e.Link.Target, e.Link.RedirectType, e.Link.ForwardQuery = p.Target, p.RedirectType, p.ForwardQuery
	e.Link.ValidSince, e.Link.ValidUntil, e.Link.ExpiredTarget = p.ValidSince, p.ValidUntil, p.ExpiredTarget
	e.Link.Suspended, e.Link.Tags, e.Link.Source = p.Suspended, p.Tags, p.Source
	e.Link.Owner, e.Link.OwnerUID = p.Owner, p.OwnerUID
	return e, nil
}
