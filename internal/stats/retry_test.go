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
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRetryable(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("add visit counts: %w", &pgconn.PgError{Code: code}) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"invalid text", pg("22021"), false},
		{"check violation", pg("23514"), false},
		{"schema not migrated yet", pg("42P01"), true},
		{"deadlock", pg("40P01"), true},
		{"connection failure", pg("08006"), true},
		{"connection cut", io.ErrUnexpectedEOF, true},
		{"deadline", context.DeadlineExceeded, true},
		{"cancelled", context.Canceled, true},
	} {
		if got := retryable(&batch{}, tc.err); got != tc.want {
			t.Errorf("%s: retryable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}

	// Anything else is retried a few times, then set aside.
	b, err := &batch{}, errors.New("encode argument")
	for i := 1; i < maxAttempts; i++ {
		if !retryable(b, err) {
			t.Fatalf("attempt %d of an unclassified error not retried", i)
		}
	}
	if retryable(b, err) {
		t.Fatalf("unclassified error retried beyond %d attempts", maxAttempts)
	}
}
