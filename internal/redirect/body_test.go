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

package redirect_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// A request that announces a body which never arrives is answered without it, and its
// connection is closed: before, net/http read the body to its end after the handler returned,
// so the answer waited forever, and the connection, being active, was beyond ConnGuard.
func TestBodyThatNeverArrivesIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("held", "https://example.com/held"))
	addr := serveOnLoopback(t, f.server(f.resolver(redirect.Options{}, false, nil), redirect.Config{}))
	tests := []struct {
		name, head string
		status     int
	}{
		{"chunked GET of a code", "GET /held HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", http.StatusFound},
		{"GET of a code, body shorter than its length", "GET /held HTTP/1.1\r\nHost: sho.rt\r\nContent-Length: 100\r\n\r\nabc", http.StatusFound},
		{"chunked HEAD of a code", "HEAD /held HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusFound},
		{"chunked POST of a code", "POST /held HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusNotFound},
		{"chunked GET of readiness", "GET /_/readyz HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusOK},
		{"chunked POST to the reserved API path", "POST /api/v1/links HTTP/1.1\r\nHost: sho.rt\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			if _, err := io.WriteString(c, tt.head); err != nil { // and then nothing
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(c)
			req, _ := http.NewRequest(http.MethodHead, "/", nil) // a HEAD answer has no body to read
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("no answer while the body is outstanding: %v", err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tt.status || !resp.Close {
				t.Fatalf("answer = %d, Connection: %q; want %d and the connection closed", resp.StatusCode, resp.Header.Get("Connection"), tt.status)
			}
			if _, err := io.Copy(io.Discard, br); err != nil {
				t.Fatalf("the server left the connection open: %v", err)
			}
		})
	}
}

// serveOnLoopback serves h as the redirector does, under a ConnGuard with its limits.
func serveOnLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := redirect.NewConnGuard(5*time.Second, 2*time.Minute, 250*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	go g.Run(ctx)
	srv := &http.Server{Handler: h} //nolint:gosec // the guard sets the header and idle limits
	go func() { _ = srv.Serve(g.Guard(srv, ln)) }()
	t.Cleanup(func() { cancel(); _ = srv.Close() })
	return ln.Addr().String()
}
