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
	"context"
	"encoding/binary"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// A stats flush sends its counts as array parameters, one element a row. Through PgBouncer
// every pgx query runs in QueryExecModeExec, which sends parameters as text: pgx's array codec
// reflects on and quotes every element, which was a third of a flush's CPU with a million
// links (BenchmarkVisitWrite). The flush instead builds each array in PostgreSQL's binary
// format itself and sends it through pgconn, still one unnamed statement in one round trip.

// pgEpochDays is 2000-01-01, the zero of PostgreSQL's binary dates, in days since 1970-01-01.
const pgEpochDays = pgEpochSeconds / 86400

// arrayParam builds one one-dimensional array parameter without NULLs in the binary format:
// dimensions, a has-nulls flag, the element type, the length and lower bound of the one
// dimension, then each element as its length and bytes. Its buffer is kept for the next batch.
type arrayParam struct {
	buf []byte
	n   uint32
}

// arrayHeader is the size of a one-dimensional array's header.
const arrayHeader = 20

// reset starts an empty array.
func (a *arrayParam) reset() {
	a.buf = append(a.buf[:0], make([]byte, arrayHeader)...) // the compiler extends in place: no allocation
	a.n = 0
}

func (a *arrayParam) text(s string) {
	a.buf = appendText(a.buf, s)
	a.n++
}

func (a *arrayParam) int8(v int64) {
	a.buf = binary.BigEndian.AppendUint32(a.buf, 8)
	a.buf = binary.BigEndian.AppendUint64(a.buf, uint64(v)) //nolint:gosec // two's complement, as PostgreSQL reads it
	a.n++
}

// date appends the UTC day that is day days after 1970-01-01.
func (a *arrayParam) date(day int64) {
	a.buf = binary.BigEndian.AppendUint32(a.buf, 4)
	a.buf = binary.BigEndian.AppendUint32(a.buf, uint32(int32(day-pgEpochDays))) //nolint:gosec // days of visits fit, two's complement
	a.n++
}

// timestamptz appends the instant micros microseconds after 1970-01-01 UTC.
func (a *arrayParam) timestamptz(micros int64) {
	a.buf = binary.BigEndian.AppendUint32(a.buf, 8)
	a.buf = binary.BigEndian.AppendUint64(a.buf, uint64(micros-pgEpochMicros)) //nolint:gosec // two's complement, as PostgreSQL reads it
	a.n++
}

// bytes returns the array with elements of type elemOID: an empty one has no dimensions.
func (a *arrayParam) bytes(elemOID uint32) []byte {
	h := a.buf[:arrayHeader]
	binary.BigEndian.PutUint32(h[8:], elemOID)
	if a.n == 0 {
		binary.BigEndian.PutUint32(h, 0)
		return h[:12]
	}
	binary.BigEndian.PutUint32(h, 1)
	binary.BigEndian.PutUint32(h[12:], a.n)
	binary.BigEndian.PutUint32(h[16:], 1) // lower bound
	return a.buf
}

// Array types of the parameters and their elements.
var (
	textArray        = arrayType{pgtype.TextArrayOID, pgtype.TextOID}
	int8Array        = arrayType{pgtype.Int8ArrayOID, pgtype.Int8OID}
	dateArray        = arrayType{pgtype.DateArrayOID, pgtype.DateOID}
	timestamptzArray = arrayType{pgtype.TimestamptzArrayOID, pgtype.TimestamptzOID}
)

type arrayType struct{ oid, elem uint32 }

// arrayParams are the parameters of one statement, $1 first, with their types.
type arrayParams struct {
	arrays []arrayParam
	types  []arrayType
	values [][]byte
	oids   []uint32
}

// binaryFormat is one format code, which applies to every parameter or result column.
var binaryFormat = []int16{pgtype.BinaryFormatCode}

// start empties the parameters and sets their types, reusing their buffers.
func (p *arrayParams) start(types ...arrayType) {
	if cap(p.arrays) < len(types) {
		p.arrays = make([]arrayParam, len(types))
	}
	p.arrays, p.types = p.arrays[:len(types)], types
	for i := range p.arrays {
		p.arrays[i].reset()
	}
}

// exec runs sql with the parameters built, and no results.
func (p *arrayParams) exec(ctx context.Context, conn *pgconn.PgConn, sql string) error {
	_, err := conn.ExecParams(ctx, sql, p.finish(), p.oids, binaryFormat, nil).Close()
	return err
}

// query runs sql with the parameters built and hands each row, its columns in the binary
// format, to row (readRows).
func (p *arrayParams) query(ctx context.Context, conn *pgconn.PgConn, sql string, row func([][]byte) error) error {
	return readRows(conn.ExecParams(ctx, sql, p.finish(), p.oids, binaryFormat, binaryFormat), row)
}

func (p *arrayParams) finish() [][]byte {
	p.values, p.oids = p.values[:0], p.oids[:0]
	for i := range p.arrays {
		p.values = append(p.values, p.arrays[i].bytes(p.types[i].elem))
		p.oids = append(p.oids, p.types[i].oid)
	}
	return p.values
}
