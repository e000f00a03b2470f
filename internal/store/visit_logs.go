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
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// All SQL that touches visit_logs and its partitions is here: partition upkeep and the COPY of
// a flush's visit rows.
//
// visit_logs has one partition a month, named visit_logs_YYYY_MM and bounded in UTC, plus
// visit_logs_default, which catches visits whose month has no partition yet.
//
// Partition DDL runs only on the manager's leader, each change in its own short transaction
// under SET LOCAL lock_timeout: the DDL needs locks that stats flushes (COPY into visit_logs)
// would queue behind, so a DDL that cannot get its lock quickly gives up with an error, and the
// caller tries again on its next pass, rather than stall flushes.
//
// DESIGN.md §4 asks for old partitions to be detached concurrently. PostgreSQL refuses
// DETACH PARTITION … CONCURRENTLY while the parent has a DEFAULT partition, and we keep the
// DEFAULT partition so that no visit is refused when partition creation lags. So old partitions
// are detached with a plain DETACH (which takes an ACCESS EXCLUSIVE lock on visit_logs) under
// the lock timeout above, then dropped in the same transaction.
const partitionLockTimeout = "SET LOCAL lock_timeout = '1s'"

const partitionPrefix = "visit_logs_"

// EnsurePartitions creates the partitions for the month of now and the monthsAhead months after
// it, those missing only. Visits of those months already caught by the DEFAULT partition move
// into the new partition, in the same transaction.
func (s *Store) EnsurePartitions(ctx context.Context, now time.Time, monthsAhead int) error {
	first := monthStart(now)
	for i := 0; i <= monthsAhead; i++ {
		if err := s.ensurePartition(ctx, first.AddDate(0, i, 0)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ensurePartition(ctx context.Context, month time.Time) error {
	name := partitionName(month)
	// Checked first without locks, so a pass that finds every partition in place blocks nothing.
	exists, err := isPartition(ctx, s.pool, name)
	if err != nil {
		return wrap("ensure partition "+name, err)
	}
	if exists {
		return nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return createPartition(ctx, tx, name, month) })
	if err != nil {
		return wrap("create partition "+name, err)
	}
	return nil
}

// createPartition creates the table on its own, moves the month's rows out of the DEFAULT
// partition into it, and attaches it. Attaching straight away would fail if the DEFAULT
// partition held rows of that month. The DEFAULT partition is locked first: that serialises
// concurrent callers and keeps new visits from landing there between the move and the attach.
func createPartition(ctx context.Context, tx pgx.Tx, name string, month time.Time) error {
	if _, err := tx.Exec(ctx, partitionLockTimeout); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE visit_logs_default IN ACCESS EXCLUSIVE MODE"); err != nil {
		return err
	}
	if exists, err := isPartition(ctx, tx, name); err != nil || exists {
		return err
	}
	id := pgx.Identifier{name}.Sanitize()
	from, to := month, month.AddDate(0, 1, 0)
	if _, err := tx.Exec(ctx, "CREATE TABLE "+id+" (LIKE visit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"); err != nil {
		return err
	}
	move := `WITH moved AS (DELETE FROM visit_logs_default WHERE visited_at >= $1 AND visited_at < $2 RETURNING *)
		INSERT INTO ` + id + " SELECT * FROM moved"
	if _, err := tx.Exec(ctx, move, from, to); err != nil {
		return err
	}
	// DDL takes no parameters; the bounds are our own formatted times.
	_, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE visit_logs ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
		id, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	return err
}

// DropPartitionsBefore detaches and drops every monthly partition that ends at or before cutoff,
// returning the names dropped, and deletes visits before cutoff from the DEFAULT partition,
// hourly counts before it from visit_hours and the breakdowns of days ended by it from
// visit_breakdowns, so retention holds for them too. The DEFAULT partition itself stays. On error it returns what it
// dropped so far; the caller retries on its next pass.
func (s *Store) DropPartitionsBefore(ctx context.Context, cutoff time.Time) ([]string, error) {
	names, err := s.partitions(ctx)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, name := range names {
		month, ok := parsePartitionName(name)
		if !ok || month.AddDate(0, 1, 0).After(cutoff) {
			continue
		}
		if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return dropPartition(ctx, tx, name) }); err != nil {
			return dropped, wrap("drop partition "+name, err)
		}
		dropped = append(dropped, name)
	}
	if _, err := s.pool.Exec(ctx, "DELETE FROM visit_logs_default WHERE visited_at < $1", cutoff); err != nil {
		return dropped, wrap("delete old visits from the default partition", err)
	}
	if err := s.pruneVisitHours(ctx, cutoff); err != nil {
		return dropped, err
	}
	if err := s.pruneVisitBreakdowns(ctx, cutoff); err != nil {
		return dropped, err
	}
	return dropped, nil
}

func dropPartition(ctx context.Context, tx pgx.Tx, name string) error {
	id := pgx.Identifier{name}.Sanitize()
	for _, stmt := range []string{partitionLockTimeout, "ALTER TABLE visit_logs DETACH PARTITION " + id, "DROP TABLE " + id} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// partitions lists the partitions of visit_logs by name, the DEFAULT one included.
func (s *Store) partitions(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'visit_logs'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, wrap("list partitions", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("list partitions", err)
	}
	return names, nil
}

// copyVisitLogsSQL takes the rows appendVisitLogs encodes.
const copyVisitLogsSQL = `COPY visit_logs (visited_at, domain, code, client_ip, user_agent, referer, bot) FROM STDIN (FORMAT binary)`

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
		buf = binary.BigEndian.AppendUint16(buf, 7)
		buf = appendTimestamp(buf, v.At)
		buf = appendText(buf, v.Domain)
		buf = appendText(buf, v.Code)
		buf = appendInet(buf, v)
		buf = appendText(buf, cleanText(v.UserAgent, maxUserAgent))
		buf = appendText(buf, cleanText(v.Referer, maxReferer))
		buf = appendBool(buf, v.Bot)
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff)
}

// appendTimestamp appends a timestamptz: microseconds since 2000-01-01 UTC, as PostgreSQL
// keeps them (finer digits are dropped, as pgx drops them).
func appendTimestamp(buf []byte, t time.Time) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(t.UnixMicro()-pgEpochMicros)) //nolint:gosec // two's complement, as PostgreSQL reads it
}

func appendBool(buf []byte, b bool) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1)
	if b {
		return append(buf, 1)
	}
	return append(buf, 0)
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

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isPartition(ctx context.Context, q queryRower, name string) (bool, error) {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'visit_logs'::regclass AND c.relname = $1::text)`, name).Scan(&exists)
	return exists, err
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(month time.Time) string {
	return fmt.Sprintf("%s%04d_%02d", partitionPrefix, month.Year(), int(month.Month()))
}

// parsePartitionName returns the month of a monthly partition, and false for any other name.
func parsePartitionName(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, partitionPrefix)
	if !ok {
		return time.Time{}, false
	}
	month, err := time.Parse("2006_01", rest)
	if err != nil {
		return time.Time{}, false
	}
	return month, true
}
