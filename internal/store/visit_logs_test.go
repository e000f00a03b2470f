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
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func month(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

func insertVisit(t *testing.T, s *Store, at time.Time) {
	t.Helper()
	mustExec(t, s, "INSERT INTO visit_logs (visited_at, domain, code, client_ip) VALUES ($1, '', 'x', '192.0.2.0')", at)
}

// visitsIn counts the visit_logs rows stored in one partition.
func visitsIn(t *testing.T, s *Store, partition string) int64 {
	t.Helper()
	return queryInt(t, s, "SELECT count(*) FROM visit_logs WHERE tableoid = $1::regclass", partition)
}

func assertPartitions(t *testing.T, s *Store, want ...string) {
	t.Helper()
	got, err := s.partitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "visit_logs_default")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("partitions = %v, want %v", got, want)
	}
}

func TestEnsurePartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	// Visits that arrived before their partition existed wait in the DEFAULT partition.
	insertVisit(t, s, time.Date(2031, 1, 10, 0, 0, 0, 0, time.UTC))
	insertVisit(t, s, time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC))

	// 22:00 on New Year's Eve at UTC-5 is already January in UTC, which partitions follow.
	now := time.Date(2030, 12, 31, 22, 0, 0, 0, time.FixedZone("EST", -5*3600))
	for range 2 {
		if err := s.EnsurePartitions(ctx, now, 2); err != nil {
			t.Fatal(err)
		}
		assertPartitions(t, s, "visit_logs_2031_01", "visit_logs_2031_02", "visit_logs_2031_03")
	}
	if n := visitsIn(t, s, "visit_logs_2031_01"); n != 1 {
		t.Errorf("visit_logs_2031_01 holds %d visits, want the one moved out of the DEFAULT partition", n)
	}
	if n := visitsIn(t, s, "visit_logs_default"); n != 1 {
		t.Errorf("visit_logs_default holds %d visits, want only the one of June 2030", n)
	}
	insertVisit(t, s, time.Date(2031, 3, 31, 23, 59, 59, 0, time.UTC))
	if n := visitsIn(t, s, "visit_logs_2031_03"); n != 1 {
		t.Errorf("a visit of March 2031 went elsewhere than visit_logs_2031_03")
	}
}

func TestDropPartitionsBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	if err := s.EnsurePartitions(ctx, month(2030, 1), 3); err != nil {
		t.Fatal(err)
	}
	insertVisit(t, s, month(2030, 1).Add(time.Hour))
	mustExec(t, s, "ALTER TABLE visit_logs DETACH PARTITION visit_logs_2030_04") // so the next two land in DEFAULT
	insertVisit(t, s, time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC))
	insertVisit(t, s, time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC))
	mustExec(t, s, "DROP TABLE visit_logs_2030_04")
	for _, hour := range []time.Time{time.Date(2030, 3, 14, 23, 0, 0, 0, time.UTC), month(2030, 4)} {
		mustExec(t, s, "INSERT INTO visit_hours (domain, code, hour, visits) VALUES ('', 'x', $1, 1)", hour)
	}
	for _, day := range []string{"2030-03-14", "2030-03-15", "2030-04-01"} {
		mustExec(t, s, "INSERT INTO visit_breakdowns VALUES ('', 'x', $1::date, 'device', 'mobile', 1)", day)
	}

	tests := []struct {
		cutoff      time.Time
		wantDropped []string
		wantLeft    []string
		wantDays    int64 // of visit_breakdowns: those that end after the cutoff
	}{
		{cutoff: time.Date(2030, 3, 15, 0, 0, 0, 0, time.UTC), // March ends after the cutoff: it stays
			wantDropped: []string{"visit_logs_2030_01", "visit_logs_2030_02"}, wantLeft: []string{"visit_logs_2030_03"}, wantDays: 2},
		{cutoff: time.Date(2030, 3, 15, 0, 0, 0, 0, time.UTC), wantLeft: []string{"visit_logs_2030_03"}, wantDays: 2},
		{cutoff: month(2030, 4), wantDropped: []string{"visit_logs_2030_03"}, wantDays: 1},
	}
	for _, tt := range tests {
		dropped, err := s.DropPartitionsBefore(ctx, tt.cutoff)
		if err != nil || !slices.Equal(dropped, tt.wantDropped) {
			t.Fatalf("drop before %v = %v, %v; want %v", tt.cutoff, dropped, err, tt.wantDropped)
		}
		assertPartitions(t, s, tt.wantLeft...)
		if n := queryInt(t, s, "SELECT count(*) FROM visit_breakdowns"); n != tt.wantDays {
			t.Errorf("after the drop before %v, visit_breakdowns holds %d days, want %d", tt.cutoff, n, tt.wantDays)
		}
	}
	if n := queryInt(t, s, "SELECT count(*) FROM pg_class WHERE relname LIKE 'visit_logs_2030_%'"); n != 0 {
		t.Errorf("%d old partitions detached but not dropped", n)
	}
	if n := visitsIn(t, s, "visit_logs_default"); n != 1 {
		t.Errorf("DEFAULT partition holds %d visits, want only the one after the cutoff", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM visit_hours WHERE hour < '2030-04-01Z'"); n != 0 {
		t.Errorf("visit_hours keeps %d hours before the cutoff", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM visit_hours"); n != 1 {
		t.Errorf("visit_hours holds %d hours, want the one at the last cutoff", n)
	}
	if n := queryInt(t, s, "SELECT count(*) FROM visit_breakdowns WHERE day = '2030-04-01'"); n != 1 {
		t.Errorf("visit_breakdowns lost the day that starts at the last cutoff")
	}
}

func TestDropPartitionsGivesUpWhenLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	if err := s.EnsurePartitions(ctx, month(2030, 1), 0); err != nil {
		t.Fatal(err)
	}
	// A long reader (or a stats flush) holds a lock that DETACH must wait for.
	blocker, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = blocker.Rollback(ctx) }()
	if _, err := blocker.Exec(ctx, "SELECT count(*) FROM visit_logs"); err != nil {
		t.Fatal(err)
	}

	// A generous deadline: the error must come from the lock timeout, not from the context.
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = s.DropPartitionsBefore(waitCtx, month(2031, 1))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Fatalf("drop while locked = %v, want lock_not_available (55P03)", err)
	}
	assertPartitions(t, s, "visit_logs_2030_01")

	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if dropped, err := s.DropPartitionsBefore(ctx, month(2031, 1)); err != nil || len(dropped) != 1 {
		t.Fatalf("drop on the next pass = %v, %v; want visit_logs_2030_01", dropped, err)
	}
	assertPartitions(t, s)
}

func TestPartitionNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wantMonth time.Time
		wantOK    bool
	}{
		{"visit_logs_2030_01", month(2030, 1), true},
		{"visit_logs_1999_12", month(1999, 12), true},
		{"visit_logs_default", time.Time{}, false},
		{"visit_logs_2030_13", time.Time{}, false},
		{"other_2030_01", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePartitionName(tt.name)
		if ok != tt.wantOK || !got.Equal(tt.wantMonth) {
			t.Errorf("parsePartitionName(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.wantMonth, tt.wantOK)
		}
		if ok && partitionName(got) != tt.name {
			t.Errorf("partitionName(%v) = %q, want %q", got, partitionName(got), tt.name)
		}
	}
}
