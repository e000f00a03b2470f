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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// MaxBodyBytes bounds a request body; a link is well under 8 KiB even with every field full.
const MaxBodyBytes = 64 << 10

// optional is a JSON field that tells absent (Set false) from null (Null true), so a PATCH can
// clear a field by sending null and leave it alone by leaving it out.
type optional[T any] struct {
	Set, Null bool
	V         T
}

func (o *optional[T]) decode(b json.RawMessage) error {
	o.Set = true
	if bytes.Equal(b, []byte("null")) {
		o.Null = true
		return nil
	}
	if s, ok := any(&o.V).(*string); ok && plainString(b) {
		*s = string(b[1 : len(b)-1])
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// plainString reports whether b, a valid JSON value, is a string that decodes to its own bytes:
// no escapes, and valid UTF-8 (encoding/json would replace invalid bytes). Most fields are.
func plainString(b []byte) bool {
	return len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b)
}

// LinkRequest is the body of a create (every field the client sets) or a PATCH (the fields to
// change; null clears one). Field names are the ShortLink spec's.
type LinkRequest struct {
	Target        optional[string]    `json:"target"`
	Code          optional[string]    `json:"code"`
	Domain        optional[string]    `json:"domain"`
	RedirectType  optional[int]       `json:"redirectType"`
	ForwardQuery  optional[bool]      `json:"forwardQuery"`
	ForwardPath   optional[bool]      `json:"forwardPath"`
	MaxVisits     optional[int64]     `json:"maxVisits"`
	ValidSince    optional[time.Time] `json:"validSince"`
	ValidUntil    optional[time.Time] `json:"validUntil"`
	ExpiredTarget optional[string]    `json:"expiredTarget"`
	Suspend       optional[bool]      `json:"suspend"`
	Tags          optional[[]string]  `json:"tags"`
}

// LinkResponse is a link as the API shows it.
type LinkResponse struct {
	Code          string     `json:"code"`
	Domain        string     `json:"domain,omitempty"`
	ShortURL      string     `json:"shortURL"`
	Target        string     `json:"target"`
	RedirectType  int        `json:"redirectType"`
	ForwardQuery  bool       `json:"forwardQuery"`
	ForwardPath   bool       `json:"forwardPath"`
	MaxVisits     *int64     `json:"maxVisits,omitempty"` // absent for a link without a limit
	ValidSince    *time.Time `json:"validSince,omitempty"`
	ValidUntil    *time.Time `json:"validUntil,omitempty"`
	ExpiredTarget string     `json:"expiredTarget,omitempty"`
	Suspend       bool       `json:"suspend"`
	Tags          []string   `json:"tags"`
	// Source is "api", or "k8s" for a link declared by a ShortLink (readable, not changeable here).
	Source    string    `json:"source"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	// Visits is the total of people's visits, in GET answers only: bots and previews are not
	// counted here but in BotVisits.
	Visits *int64 `json:"visits,omitempty"`
	// BotVisits is the total of programs' visits (crawlers, link previews, headless browsers,
	// scripts, prefetches), in GET answers only.
	BotVisits *int64 `json:"botVisits,omitempty"`
}

// BatchResponse answers a batch create: how many links were created, and one result per link
// of the request, in its order.
type BatchResponse struct {
	Created int           `json:"created"`
	Results []BatchResult `json:"results"`
}

// BatchResult is the outcome of one link of a batch: status 201 with the link, or 400, 403 or
// 409 with the error a single create would have answered.
type BatchResult struct {
	Status int            `json:"status"`
	Link   *LinkResponse  `json:"link,omitempty"`
	Error  *ErrorResponse `json:"error,omitempty"`
}

// ListResponse is one page of links; NextCursor, absent on the last page, asks for the next.
type ListResponse struct {
	Links      []LinkResponse `json:"links"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// VisitsResponse is a link's visits over time: one point a bucket (empty ones too) and their
// sums, people's (Total) and programs' (BotTotal).
type VisitsResponse struct {
	Code     string       `json:"code"`
	Domain   string       `json:"domain,omitempty"`
	Step     string       `json:"step"`
	Points   []VisitPoint `json:"points"`
	Total    int64        `json:"total"`
	BotTotal int64        `json:"botTotal"`
}

// VisitPoint is the number of people's visits (Visits) and programs' (BotVisits) in the
// bucket starting at Start.
type VisitPoint struct {
	Start     time.Time `json:"start"`
	Visits    int64     `json:"visits"`
	BotVisits int64     `json:"botVisits"`
}

// BreakdownResponse is a link's visits over the UTC days [From, To) by referrer domain, device
// class and country, each most visits first.
type BreakdownResponse struct {
	Code   string    `json:"code"`
	Domain string    `json:"domain,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// Referrers are the top domains, "(direct)" for visits without a Referer and "(other)"
	// for the rest.
	Referrers []BreakdownCount `json:"referrers"`
	// Devices are desktop, mobile, tablet and bot.
	Devices []BreakdownCount `json:"devices"`
	// Countries are ISO 3166-1 alpha-2 codes; empty unless the redirectors have a geo database.
	Countries []BreakdownCount `json:"countries"`
}

// BreakdownCount is the visits, people's and programs', of one value of a breakdown.
type BreakdownCount struct {
	Value  string `json:"value"`
	Visits int64  `json:"visits"`
}

// ErrorResponse is every error body: what went wrong and, for a refused input, which field.
type ErrorResponse struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// DecodeLinkRequest reads one JSON object, refusing unknown fields, fields given twice, wrong
// types and trailing data with a *links.FieldError naming the field ("body" when none can be
// named). Values are checked later, against the link rules.
func DecodeLinkRequest(r io.Reader) (LinkRequest, error) {
	dec := json.NewDecoder(r)
	raw, err := readObject(dec)
	if err != nil {
		return LinkRequest{}, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return LinkRequest{}, err
		}
		return LinkRequest{}, badField("body", "must hold exactly one JSON object")
	}
	return decodeFields(raw)
}

// decodeLinkObject is DecodeLinkRequest for one item of a batch: a single JSON value already
// (the batch was decoded as an array), so it needs no check for trailing data. An item of the
// usual shape is split into its members by hand (splitObject): through encoding/json's map it
// took a fifth of a batch's handler time (go test -bench Batch). Anything else takes the
// general way, where a name given twice is found by counting the object's members rather than
// by reading it token by token (a quarter less memory on a batch of 1000 links).
func decodeLinkObject(item json.RawMessage) (LinkRequest, error) {
	if ms, ok := splitObject(item); ok {
		return decodeMembers(ms)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(item, &raw); err != nil || raw == nil {
		return LinkRequest{}, badField("body", "must be one JSON object")
	}
	if members(item) != len(raw) {
		// Rare: read it again the slow way, for the error that names the member.
		_, err := readObject(json.NewDecoder(bytes.NewReader(item)))
		return LinkRequest{}, bodyError(err)
	}
	return decodeFields(raw)
}

// member is one name and raw value of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// maxMembers is how many members splitObject takes: as many as a LinkRequest has fields. An
// object with more names an unknown field or one twice, and is left to the general way.
const maxMembers = 12

// splitObject splits b, a valid JSON value, into its members when it is an object of the usual
// shape: at most maxMembers members, names without escapes in valid UTF-8 (encoding/json would
// rewrite them), no name twice. Otherwise ok is false
// and nothing is decided: the general way decodes it, errors included.
func splitObject(b []byte) (ms []member, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	ms = make([]member, 0, 4)
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; i = skipSpace(b, i) {
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		end := stringEnd(b, i)
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) || len(ms) == maxMembers {
			return nil, false
		}
		for _, m := range ms {
			if m.name == string(name) {
				return nil, false
			}
		}
		start := skipSpace(b, skipSpace(b, end)+1) // past the colon
		i = valueEnd(b, start)
		ms = append(ms, member{name: string(name), value: b[start:i]})
	}
	return ms, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // whatever is escaped cannot end the string
		case '"':
			return i + 1
		}
	}
	return i
}

// valueEnd is the index just past the JSON value starting at b[i]: a string, an object or an
// array (brackets counted outside strings), or a literal up to the next delimiter.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		for depth := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[i])) {
		i++
	}
	return i
}

// members counts the members of b, a valid JSON object: the colons outside strings at depth
// one. Names are counted as written, so "t" and "\u0074" are one name twice, as the decoded
// map sees them.
func members(b []byte) int {
	n, depth, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++ // whatever is escaped cannot end the string
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// duplicateError is a JSON object naming one member twice.
type duplicateError struct{ name string }

func (e *duplicateError) Error() string { return fmt.Sprintf("names %q more than once", e.name) }

var errNotObject = errors.New("not a JSON object")

// readObject reads one JSON object from dec as its members' raw values. A name given twice is
// refused: encoding/json would keep the last value silently, so a body checked by whatever
// read the first (a proxy, an audit log, a person) would do something else here.
func readObject(dec *json.Decoder) (map[string]json.RawMessage, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, errNotObject
	}
	raw := make(map[string]json.RawMessage)
	for dec.More() {
		t, err = dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string) // inside an object, Token only ever answers names here
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := raw[name]; dup {
			return nil, &duplicateError{name: name}
		}
		raw[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return raw, nil
}

// bodyError turns readObject's error into the answer: too large stays itself, anything else
// refuses the body.
func bodyError(err error) error {
	var dup *duplicateError
	switch {
	case isTooLarge(err):
		return err
	case errors.As(err, &dup):
		return badField("body", dup.Error())
	}
	return badField("body", "must be one JSON object")
}

// decodeFields decodes each field of a request, in name order so that the field an error
// names does not depend on the order the client wrote them in.
func decodeFields(raw map[string]json.RawMessage) (LinkRequest, error) {
	ms := make([]member, 0, len(raw))
	for name, value := range raw {
		ms = append(ms, member{name: name, value: value})
	}
	return decodeMembers(ms)
}

// decodeMembers is decodeFields for members with distinct names; it sorts ms.
func decodeMembers(ms []member) (LinkRequest, error) {
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	var req LinkRequest
	for _, m := range ms {
		known, err := req.decodeField(m.name, m.value)
		if !known {
			return LinkRequest{}, badField(m.name, "is not a known field")
		}
		if err != nil {
			return LinkRequest{}, badField(m.name, fieldReason(err))
		}
	}
	return req, nil
}

// decodeField decodes b into the field called name, reporting whether there is one.
func (req *LinkRequest) decodeField(name string, b json.RawMessage) (bool, error) {
	switch name {
	case "target":
		return true, req.Target.decode(b)
	case fieldCode:
		return true, req.Code.decode(b)
	case "domain":
		return true, req.Domain.decode(b)
	case "redirectType":
		return true, req.RedirectType.decode(b)
	case "forwardQuery":
		return true, req.ForwardQuery.decode(b)
	case "forwardPath":
		return true, req.ForwardPath.decode(b)
	case "maxVisits":
		return true, req.MaxVisits.decode(b)
	case "validSince":
		return true, req.ValidSince.decode(b)
	case "validUntil":
		return true, req.ValidUntil.decode(b)
	case "expiredTarget":
		return true, req.ExpiredTarget.decode(b)
	case "suspend":
		return true, req.Suspend.decode(b)
	case "tags":
		return true, req.Tags.decode(b)
	}
	return false, nil
}

func fieldReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		return "must be a JSON " + typeErr.Type.String()
	case errors.As(err, &timeErr):
		return "must be an RFC 3339 time"
	}
	return "has the wrong type"
}

func badField(field, reason string) error {
	return &links.FieldError{Field: field, Reason: reason, Err: links.ErrInvalidLink}
}
