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
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// The batch answer is written by hand: through encoding/json's reflection it was the largest
// piece of a batch's answer (a thousand links, each with eighteen fields). What is written
// here is byte for byte what json.NewEncoder(w).Encode writes for the same value, HTML
// escaping and the closing newline included (TestBatchAnswerMatchesEncodingJSON); a value it
// cannot write the same way (a time outside RFC 3339's years) is left to encoding/json.

// writeBatch answers a batch with out.
func writeBatch(w http.ResponseWriter, out BatchResponse) {
	b, ok := appendBatchResponse(make([]byte, 0, 64+320*len(out.Results)), out)
	if !ok {
		writeJSON(w, http.StatusOK, out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// appendBatchResponse appends out as encoding/json's Encoder writes it; ok is false when it
// cannot, and b is then to be thrown away.
func appendBatchResponse(b []byte, out BatchResponse) (_ []byte, ok bool) {
	b = append(b, `{"created":`...)
	b = strconv.AppendInt(b, int64(out.Created), 10)
	b = append(b, `,"results":`...)
	if out.Results == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range out.Results {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendBatchResult(b, &out.Results[i]); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...), true
}

func appendBatchResult(b []byte, r *BatchResult) (_ []byte, ok bool) {
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	if r.Link != nil {
		b = append(b, `,"link":`...)
		if b, ok = appendLink(b, r.Link); !ok {
			return b, false
		}
	}
	if r.Error != nil {
		b = append(b, `,"error":{"error":`...)
		b = appendString(b, r.Error.Error)
		if r.Error.Field != "" {
			b = append(b, `,"field":`...)
			b = appendString(b, r.Error.Field)
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// appendLink writes every field of LinkResponse in its declared order, leaving out the
// omitempty ones as encoding/json does.
func appendLink(b []byte, l *LinkResponse) (_ []byte, ok bool) {
	b = append(b, `{"code":`...)
	b = appendString(b, l.Code)
	if l.Domain != "" {
		b = append(b, `,"domain":`...)
		b = appendString(b, l.Domain)
	}
	b = append(b, `,"shortURL":`...)
	b = appendString(b, l.ShortURL)
	b = append(b, `,"target":`...)
	b = appendString(b, l.Target)
	b = append(b, `,"redirectType":`...)
	b = strconv.AppendInt(b, int64(l.RedirectType), 10)
	b = append(b, `,"forwardQuery":`...)
	b = strconv.AppendBool(b, l.ForwardQuery)
	b = append(b, `,"forwardPath":`...)
	b = strconv.AppendBool(b, l.ForwardPath)
	b = appendOptionalInt(b, `,"maxVisits":`, l.MaxVisits)
	if b, ok = appendOptionalTime(b, `,"validSince":`, l.ValidSince); !ok {
		return b, false
	}
	if b, ok = appendOptionalTime(b, `,"validUntil":`, l.ValidUntil); !ok {
		return b, false
	}
	if l.ExpiredTarget != "" {
		b = append(b, `,"expiredTarget":`...)
		b = appendString(b, l.ExpiredTarget)
	}
	b = append(b, `,"suspend":`...)
	b = strconv.AppendBool(b, l.Suspend)
	b = append(b, `,"tags":`...)
	b = appendStrings(b, l.Tags)
	b = append(b, `,"source":`...)
	b = appendString(b, l.Source)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, l.Version, 10)
	b = append(b, `,"createdAt":`...)
	if b, ok = appendTime(b, l.CreatedAt); !ok {
		return b, false
	}
	b = appendOptionalInt(b, `,"visits":`, l.Visits)
	b = appendOptionalInt(b, `,"botVisits":`, l.BotVisits)
	return append(b, '}'), true
}

func appendOptionalInt(b []byte, name string, n *int64) []byte {
	if n == nil {
		return b
	}
	return strconv.AppendInt(append(b, name...), *n, 10)
}

func appendOptionalTime(b []byte, name string, t *time.Time) ([]byte, bool) {
	if t == nil {
		return b, true
	}
	return appendTime(append(b, name...), *t)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendTime writes t as time.Time's MarshalJSON does; ok is false where MarshalJSON fails
// (a year outside 0–9999, a zone offset of 24 hours or more).
func appendTime(b []byte, t time.Time) (_ []byte, ok bool) {
	b = append(b, '"')
	start := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	if len(b)-start < len("2006-01-02T15:04:05Z") || b[start+len("2006")] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		c := b[len(b)-len("Z07:00")]
		hour := 10*int(b[len(b)-len("07:00")]-'0') + int(b[len(b)-len("7:00")]-'0')
		if ('0' <= c && c <= '9') || hour >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// hexDigits are encoding/json's, lower case.
const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does with HTML escaping on (the
// Encoder's default): <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped,
// control characters as \b \f \n \r \t or \u00XX, and each invalid UTF-8 byte as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
