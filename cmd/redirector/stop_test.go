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

package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// Bodies that never arrive (Transfer-Encoding: chunked, then silence) pin no connection: a
// redirect is answered without its body and the connection closed, and an API request is cut
// at --api-read-timeout, whether the API shares the redirect port or has its own. A SIGTERM
// with such connections open, and a request head that never ends, stops within
// --shutdown-timeout, every counted visit flushed. Before, both connections stayed open
// forever, and the stop gave up on them with an error.
func TestStalledBodiesDoNotHoldTheStop(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{PgBouncer: true})
	if err := store.Migrate(context.Background(), env.Postgres.URL("postgres")); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte("ci:0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, code string
		args       []string
	}{
		{"API on the redirect port", "held", nil},
		{"API on its own port", "held-apart", []string{"--api-address", "127.0.0.1:0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			declare(t, env.Postgres.URL("postgres"), links.Link{
				Code: tc.code, Target: "https://example.com/" + tc.code, RedirectType: http.StatusFound,
				Source: links.SourceK8s, Owner: "team-a/" + tc.code, OwnerUID: "uid-" + tc.code,
			})
			r := startProcess(t, env, "redirector-"+tc.code, append([]string{
				"--database-url", env.PgBouncer.URL("postgres"), "--default-domain", "sho.rt",
				"--api", "--api-keys-file", keys, "--api-code-key", "a-secret-of-enough-bytes",
				"--api-read-timeout", "2s", "--shutdown-timeout", "20s",
			}, tc.args...)...)
			apiAddr := r.apiAddr
			if apiAddr == "" {
				apiAddr = r.addr
			}

			redirect := dialLoopback(t, r.addr, "GET /"+tc.code+" HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab")
			status, closed := answerAndClose(t, redirect)
			if status != http.StatusFound || !closed {
				t.Fatalf("redirect with a stalled body = %d, connection closed %v; want 302 and closed", status, closed)
			}
			api := dialLoopback(t, apiAddr, "POST /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\n"+
				"Authorization: Bearer 0123456789abcdef\r\nContent-Type: application/json\r\n"+
				"Transfer-Encoding: chunked\r\n\r\n6\r\n{\"tar")
			dialLoopback(t, r.addr, "GET /"+tc.code+" HTTP/1.1\r\nHost: sho.rt\r\n") // a head that never ends

			if code := r.waitExit(t); code != 0 {
				t.Fatalf("exit code %d after SIGTERM with stalled connections open:\n%s", code, r.LogTail())
			}
			if _, closed := answerAndClose(t, api); !closed {
				t.Fatal("the stalled API connection is still open after the exit")
			}
			if got := urlStatsVisits(t, env.Postgres.URL("postgres"), tc.code); got != 1 {
				t.Fatalf("url_stats holds %d visits of %s after the stop; want the one redirect", got, tc.code)
			}
		})
	}
}

// dialLoopback connects to addr and sends what; the test closes the connection when it ends.
func dialLoopback(t *testing.T, addr, what string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c, what); err != nil {
		t.Fatal(err)
	}
	return c
}

// answerAndClose reads the answer on c, if one comes, and whether the server then closed c,
// waiting generously for each.
func answerAndClose(t *testing.T, c net.Conn) (status int, closed bool) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(c)
	head, _ := http.NewRequest(http.MethodHead, "/", nil) // read the status and headers only
	if resp, err := http.ReadResponse(br, head); err == nil {
		status = resp.StatusCode
		_ = resp.Body.Close()
	}
	_, err := io.Copy(io.Discard, br)
	return status, err == nil
}
