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
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
//   - payload is the link in the binary form below, or empty for a tombstone.
//
// A string rather than a hash keeps Get to one GET and an entry to one allocation in Redis. The
// domain and code are in the key, so they are not repeated in the value.
//
// The payload is read on every miss of a redirector's in-process cache, so it is a hand-rolled
// binary form rather than JSON: decoding it costs a few dozen nanoseconds and no allocation
// beyond the value itself (strings are slices of it), where JSON decoding cost microseconds and
// an allocation per field. Its first byte names the form:
//
//	0x01  redirect type (uvarint), flags (one byte: 1 forwardQuery, 2 suspended, 4 validSince
//	      set, 8 validUntil set, 16 forwardPath; a reader of an earlier release ignores 16, 32
//	      maxVisits set), validSince then validUntil when set (Unix seconds as a
//	      varint, nanoseconds as a uvarint, in UTC), then target, expiredTarget, source, owner
//	      and ownerUID, each a uvarint length and its bytes, then the tag count (uvarint) and
//	      each tag the same way, then maxVisits (uvarint) when set. A reader of an earlier
//	      release refuses a limited link's entry (bytes left over) and reads the link from
//	      PostgreSQL instead, where it finds no limit either: only limited links are written so.
//	'{'   the compact JSON of earlier releases, still read so that entries written before an
//	      upgrade keep answering until they are rewritten or expire; never written.
const versionSep = "|"

const (
	formatBinary byte = 0x01
	formatJSON   byte = '{'
)

const (
	flagForwardQuery byte = 1 << iota
	flagSuspended
	flagValidSince
	flagValidUntil
	flagForwardPath
	flagMaxVisits
)

var errBadEntry = errors.New("malformed cache entry")

// encodePayload returns the payload part of l's entry.
func encodePayload(l links.Link) string {
	return string(appendPayload(make([]byte, 0, payloadSize(l)), l))
}

// payloadSize is at least the length of l's payload.
func payloadSize(l links.Link) int {
	n := 1 + binary.MaxVarintLen64 + 1 + 2*(binary.MaxVarintLen64+binary.MaxVarintLen32) +
		5*binary.MaxVarintLen64 + len(l.Target) + len(l.ExpiredTarget) + len(l.Source) + len(l.Owner) + len(l.OwnerUID) +
		2*binary.MaxVarintLen64 // the tag count and maxVisits
	for _, t := range l.Tags {
		n += binary.MaxVarintLen64 + len(t)
	}
	return n
}

// appendPayload appends the payload part of l's entry to b.
func appendPayload(b []byte, l links.Link) []byte {
	b = append(b, formatBinary)
	b = binary.AppendUvarint(b, uint64(max(l.RedirectType, 0))) //nolint:gosec // not negative
	var flags byte
	if l.ForwardQuery {
		flags |= flagForwardQuery
	}
	if l.Suspended {
		flags |= flagSuspended
	}
	if l.ForwardPath {
		flags |= flagForwardPath
	}
	if l.MaxVisits > 0 {
		flags |= flagMaxVisits
	}
	if !l.ValidSince.IsZero() {
		flags |= flagValidSince
	}
	if !l.ValidUntil.IsZero() {
		flags |= flagValidUntil
	}
	b = append(b, flags)
	b = appendTime(b, l.ValidSince)
	b = appendTime(b, l.ValidUntil)
	for _, s := range []string{l.Target, l.ExpiredTarget, l.Source, l.Owner, l.OwnerUID} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(l.Tags)))
	for _, t := range l.Tags {
		b = appendString(b, t)
	}
	if l.MaxVisits > 0 {
		b = binary.AppendUvarint(b, uint64(l.MaxVisits))
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond())) //nolint:gosec // 0 ≤ ns < 1e9
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEntry parses a stored value into the entry for (domain, code).
func decodeEntry(domain, code, value string) (Entry, error) {
	v, body, ok := strings.Cut(value, versionSep)
	version, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || version < 1 {
		return Entry{}, errBadVersion
	}
	e := Entry{Link: links.Link{Domain: domain, Code: code, Version: version}}
	switch {
	case body == "":
		e.Deleted = true
		return e, nil
	case body[0] == formatBinary:
		if !decodeBinary(body[1:], &e.Link) {
			return Entry{}, errBadPayload
		}
		return e, nil
	case body[0] == formatJSON:
		if err := decodeJSON(body, &e.Link); err != nil {
			return Entry{}, err
		}
		return e, nil
	}
	return Entry{}, errBadPayload
}

var (
	errBadVersion = fmt.Errorf("%w: bad version", errBadEntry)
	errBadPayload = fmt.Errorf("%w: bad payload", errBadEntry)
)

// decodeBinary reads formatBinary's fields into l. Strings are slices of b, which is a string
// of its own (the value Redis returned), so they cost nothing.
func decodeBinary(b string, l *links.Link) bool {
	d := decoder{b: b}
	rt := d.uvarint()
	flags := d.byte()
	if rt > math.MaxInt32 {
		return false
	}
	l.RedirectType = int(rt)
	l.ForwardQuery, l.Suspended = flags&flagForwardQuery != 0, flags&flagSuspended != 0
	l.ForwardPath = flags&flagForwardPath != 0
	if flags&flagValidSince != 0 {
		l.ValidSince = d.time()
	}
	if flags&flagValidUntil != 0 {
		l.ValidUntil = d.time()
	}
	l.Target, l.ExpiredTarget, l.Source, l.Owner, l.OwnerUID = d.string(), d.string(), d.string(), d.string(), d.string()
	if n := d.uvarint(); n > 0 && n <= uint64(len(d.b)) {
		l.Tags = make([]string, n)
		for i := range l.Tags {
			l.Tags[i] = d.string()
		}
	} else if n > 0 {
		return false
	}
	if flags&flagMaxVisits != 0 {
		if l.MaxVisits = int64(d.uvarint()); l.MaxVisits <= 0 { //nolint:gosec // a limit past MaxInt64 is refused
			return false
		}
	}
	return !d.bad && len(d.b) == 0
}

// decoder reads formatBinary from a string without copying it. A read past the end or a
// malformed number sets bad and yields zero values from then on.
type decoder struct {
	b   string
	bad bool
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflows 64 bits
			}
			d.b = d.b[i+1:]
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	d.fail()
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1) //nolint:gosec // zig-zag decoding
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	secs, ns := d.varint(), d.uvarint()
	if ns >= uint64(time.Second) {
		d.fail()
		return time.Time{}
	}
	return time.Unix(secs, int64(ns)).UTC() //nolint:gosec // checked above
}

func (d *decoder) fail() { d.b, d.bad = "", true }

// payload is the JSON form of earlier releases (formatJSON): a links.Link without its key and
// version, with field names of one or two letters and empty fields left out.
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

func decodeJSON(body string, l *links.Link) error {
	var p payload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return fmt.Errorf("%w: %w", errBadEntry, err)
	}
	l.Target, l.RedirectType, l.ForwardQuery = p.Target, p.RedirectType, p.ForwardQuery
	l.ValidSince, l.ValidUntil, l.ExpiredTarget = p.ValidSince, p.ValidUntil, p.ExpiredTarget
	l.Suspended, l.Tags, l.Source = p.Suspended, p.Tags, p.Source
	l.Owner, l.OwnerUID = p.Owner, p.OwnerUID
	return nil
}
