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

package stats

import (
	"encoding/binary"
	"time"
)

// copyVisitLogsSQL takes the rows appendVisitLogs encodes.
const copyVisitLogsSQL = `COPY visit_logs (visited_at, domain, code, client_ip, user_agent, referer) FROM STDIN (FORMAT binary)`

// appendVisitLogs appends visits to buf as a whole COPY stream in PostgreSQL's binary format,
// each row cleaned. It is what pgx's CopyFrom would send, without a []any and a boxed value
// per field (six allocations a visit) and without the round trip in which pgx first asks the
// server for the columns' types: they are fixed here.
//
// Layout: a signature, flags and header-extension length; per row the field count, then per
// field its length (-1 for NULL) and its bytes; a -1 field count ends the stream.
func appendVisitLogs(buf []byte, visits []Visit) []byte {
	buf = append(buf, "PGCOPY\n\xff\r\n\x00"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension length
	for i := range visits {
		v := &visits[i]
		buf = binary.BigEndian.AppendUint16(buf, 6)
		buf = appendTimestamp(buf, v.At)
		buf = appendText(buf, v.Domain)
		buf = appendText(buf, v.Code)
		buf = appendInet(buf, v)
		buf = appendText(buf, clean(v.UserAgent, maxUserAgent))
		buf = appendText(buf, clean(v.Referer, maxReferer))
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff)
}

// pgEpoch is the zero of PostgreSQL's binary timestamps (2000-01-01 UTC) in Unix microseconds.
const pgEpoch = 946684800 * 1_000_000

// appendTimestamp appends a timestamptz: microseconds since 2000-01-01 UTC, as PostgreSQL
// keeps them (finer digits are dropped, as pgx drops them).
func appendTimestamp(buf []byte, t time.Time) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(t.UnixMicro()-pgEpoch)) //nolint:gosec // two's complement, as PostgreSQL reads it
}

func appendText(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s))) //nolint:gosec // cleaned fields are bounded; keys are short
	return append(buf, s...)
}

// appendInet appends the visit's anonymised address as a host inet (full mask), or NULL.
func appendInet(buf []byte, v *Visit) []byte {
	addr := anonymize(v.ClientIP)
	if !addr.IsValid() {
		return binary.BigEndian.AppendUint32(buf, 0xffffffff)
	}
	family := byte(2) // PGSQL_AF_INET
	if addr.Is6() {
		family = 3 // PGSQL_AF_INET6
	}
	raw := addr.AsSlice()
	buf = binary.BigEndian.AppendUint32(buf, uint32(4+len(raw)))                     //nolint:gosec // 8 or 20
	buf = append(buf, family, byte(addr.BitLen()), 0 /* not cidr */, byte(len(raw))) //nolint:gosec // 32 or 128, 4 or 16
	return append(buf, raw...)
}
