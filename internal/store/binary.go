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

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// binaryRow decodes a row's columns, in order, from PostgreSQL's binary format: the few types
// Lookup reads. A NULL value is nil; only timestamps may be NULL. The first error is kept and
// every later read returns a zero value.
type binaryRow struct {
	vals [][]byte
	i    int
	err  error
	// arena, when set, holds every column's bytes end to end (see sharedRow); at and end are
	// where the column read last starts and ends in it.
	arena   string
	at, end int
}

// sharedRow is a binaryRow whose strings are slices of one copy of the whole row, so a row
// costs one allocation rather than one a text column and tag. A string kept keeps the whole
// row: meant for rows read in bulk and soon dropped, as the change feed's are.
func sharedRow(vals [][]byte) binaryRow {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, v := range vals {
		sb.Write(v)
	}
	return binaryRow{vals: vals, arena: sb.String()}
}

// The zero of PostgreSQL's binary timestamps, 2000-01-01 UTC, in Unix seconds and in Unix
// microseconds (the unit of the timestamps themselves).
const (
	pgEpochSeconds = 946684800
	pgEpochMicros  = pgEpochSeconds * 1_000_000
)

func (d *binaryRow) next(nullable bool) []byte {
	if d.err != nil {
		return nil
	}
	if d.i >= len(d.vals) {
		d.err = errors.New("too few columns")
		return nil
	}
	b := d.vals[d.i]
	d.i++
	d.at, d.end = d.end, d.end+len(b)
	if b == nil && !nullable {
		d.fail("NULL where a value is required")
	}
	return b
}

func (d *binaryRow) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("column %d: %s", d.i, fmt.Sprintf(format, args...))
	}
}

func (d *binaryRow) text() string { return d.str(0, d.next(false)) }

// str returns b, the bytes off bytes into the column read last, as a string: a slice of the
// arena when the row has one, else a copy.
func (d *binaryRow) str(off int, b []byte) string {
	if d.arena == "" || len(b) == 0 {
		return string(b)
	}
	return d.arena[d.at+off : d.at+off+len(b)]
}

func (d *binaryRow) bool() bool {
	b := d.next(false)
	if d.err == nil && len(b) != 1 {
		d.fail("bool of %d bytes", len(b))
		return false
	}
	return d.err == nil && b[0] != 0
}

// int reads a big-endian integer of size bytes: 2 (smallint), 4 (integer) or 8 (bigint).
func (d *binaryRow) int(size int) int64 {
	b := d.next(false)
	if d.err != nil {
		return 0
	}
	if len(b) != size {
		d.fail("integer of %d bytes, want %d", len(b), size)
		return 0
	}
	switch size {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))) //nolint:gosec // two's complement, as sent
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))) //nolint:gosec // two's complement, as sent
	}
	return int64(binary.BigEndian.Uint64(b)) //nolint:gosec // two's complement, as sent
}

// time reads a timestamptz (microseconds since 2000-01-01 UTC); NULL is the zero time. The
// infinities are refused: no link has an infinite bound, and a time.Time cannot say it.
func (d *binaryRow) time() time.Time {
	b := d.next(true)
	if d.err != nil || b == nil {
		return time.Time{}
	}
	if len(b) != 8 {
		d.fail("timestamp of %d bytes", len(b))
		return time.Time{}
	}
	us := int64(binary.BigEndian.Uint64(b)) //nolint:gosec // two's complement, as sent
	if us == math.MaxInt64 || us == math.MinInt64 {
		d.fail("infinite timestamp")
		return time.Time{}
	}
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	return time.Unix(pgEpochSeconds+sec, frac*1e3)
}

// textArray reads a one-dimensional text[] without NULL elements; the empty array is nil.
// Layout: dimensions, a has-nulls flag, the element type, then per dimension its length and
// lower bound, then each element as a length and its bytes.
func (d *binaryRow) textArray() []string {
	b := d.next(false)
	if d.err != nil {
		return nil
	}
	if len(b) < 12 {
		d.fail("array header of %d bytes", len(b))
		return nil
	}
	dims := binary.BigEndian.Uint32(b)
	if dims == 0 {
		return nil
	}
	if dims != 1 || len(b) < 20 {
		d.fail("array of %d dimensions", dims)
		return nil
	}
	n := binary.BigEndian.Uint32(b[12:])
	col := b
	b = b[20:]
	if uint64(n) > uint64(len(b))/4 { // every element takes at least its 4-byte length
		d.fail("array of %d elements in %d bytes", n, len(b))
		return nil
	}
	out := make([]string, n)
	for i := range out {
		if len(b) < 4 {
			d.fail("array element %d cut short", i)
			return nil
		}
		size := binary.BigEndian.Uint32(b)
		b = b[4:]
		if size == math.MaxUint32 {
			d.fail("NULL array element")
			return nil
		}
		if uint64(size) > uint64(len(b)) {
			d.fail("array element %d of %d bytes in %d", i, size, len(b))
			return nil
		}
		out[i], b = d.str(len(col)-len(b), b[:size]), b[size:]
	}
	if len(b) != 0 {
		d.fail("%d bytes after the array", len(b))
		return nil
	}
	return out
}
