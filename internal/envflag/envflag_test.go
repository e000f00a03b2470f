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

package envflag

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentTwinsGiveDefaultsAndFlagsWin(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://env", "POLL_INTERVAL": "3s", "WORKERS": "7"}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := Set{FS: fs, Getenv: func(k string) string { return env[k] }}
	var url string
	var poll time.Duration
	var workers int
	s.String(&url, "database-url", "", "")
	s.Duration(&poll, "poll-interval", time.Second, "")
	s.Int(&workers, "workers", 1, "")
	if err := fs.Parse([]string{"--workers", "9"}); err != nil || s.Err() != nil {
		t.Fatal(err, s.Err())
	}
	if url != "postgres://env" || poll != 3*time.Second || workers != 9 {
		t.Fatalf("url %q, poll %s, workers %d; want the twins' values, and the flag's 9", url, poll, workers)
	}
}

func TestABadTwinIsReportedByName(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s := Set{FS: fs, Getenv: func(string) string { return "soon" }}
	var d time.Duration
	s.Duration(&d, "resync-interval", time.Minute, "")
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "RESYNC_INTERVAL") {
		t.Fatalf("Err() = %v, want one naming RESYNC_INTERVAL", err)
	}
}
