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

// Command echo is the HTTP server the local node's tests deploy: it answers every request with
// the pod's name, so a test can tell which replica answered. The image has no shell or curl, so
// it is its own client too, for `kubectl exec`:
//
//	echo get URL     prints the body of a GET (exit 1 on any failure)
//	echo dns NAME    sends one A query for NAME to the pod's nameserver and prints the answer:
//	                 "rcode=<code> a=<address,...>"
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "get":
		err = get(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "dns":
		err = query(os.Args[2])
	default:
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	addr := ":8080"
	if a := os.Getenv("ADDR"); a != "" {
		addr = a
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, host) // the client has gone: nobody to tell
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	// Logged so that the tests can read it back through `kubectl logs`.
	fmt.Printf("echo: serving on %s as %s\n", addr, host)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func get(url string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url) //nolint:noctx,gosec // a one-shot client with a timeout; the URL is the test's own argument
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only: a close error changes nothing
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get: status %d", resp.StatusCode)
	}
	_, err = os.Stdout.Write(body)
	return err
}

// query asks the pod's own nameserver (kubelet's resolv.conf: the cluster DNS) directly, with
// no search domains, so the test sees CoreDNS's answer for exactly that name.
func query(name string) error {
	server, err := nameserver()
	if err != nil {
		return err
	}
	q, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 4242, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: q, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	packet, err := msg.Pack()
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	conn, err := net.DialTimeout("udp", net.JoinHostPort(server, "53"), 5*time.Second)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	defer func() { _ = conn.Close() }() // a UDP socket, after the reply has been read
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(packet); err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	var answer dnsmessage.Message
	if err := answer.Unpack(buf[:n]); err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	var addrs []string
	for _, rr := range answer.Answers {
		if a, ok := rr.Body.(*dnsmessage.AResource); ok {
			addrs = append(addrs, net.IP(a.A[:]).String())
		}
	}
	fmt.Printf("rcode=%s a=%s\n", answer.RCode, strings.Join(addrs, ","))
	return nil
}

func nameserver() (string, error) {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return "", fmt.Errorf("dns: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
			return f[1], nil
		}
	}
	return "", errors.New("dns: no nameserver in /etc/resolv.conf")
}
