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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/envflag"
	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// apiOptions configure the create API under /api/v1/.
type apiOptions struct {
	enabled       bool
	keysFile      string
	codeKey       string
	codeKeyFile   string
	minCodeLength int
	conns         int
	keysReload    time.Duration
	addr          string
	defaultURL    string
	blocklistFile string
	blocklistPoll time.Duration
	readTimeout   time.Duration
	limits        rateLimitOptions
}

func (a *apiOptions) define(f *envflag.Set) {
	f.Bool(&a.enabled, "api", false, "serve the create API under /api/v1/")
	f.String(&a.keysFile, "api-keys-file", "", `API keys, one "name:key" or "name:sha256:<hex>" a line, optionally followed by ops=… domains=… (required with --api; see docs/api.md)`)
	f.String(&a.codeKey, "api-code-key", "", "secret (at least 16 bytes) that keeps generated codes unguessable; changing it changes every new code")
	f.String(&a.codeKeyFile, "api-code-key-file", "", "file holding the --api-code-key secret instead (surrounding whitespace is ignored)")
	f.Int(&a.minCodeLength, "api-min-code-length", 6, "length of the shortest generated code")
	f.Int(&a.conns, "api-max-conns", 4, "size of the create API's pool, apart from lookups and stats")
	f.Duration(&a.keysReload, "api-keys-reload-interval", 5*time.Second, "how often the keys file is checked for changes (0: never)")
	f.String(&a.addr, "api-address", "", "serve the API on this address of its own (default: on --listen-address, beside the redirects)")
	f.String(&a.defaultURL, "base-url", "", "prefix of the short URLs the API answers for links on the default domain (default https://<default-domain>), as the manager's --base-url")
	f.String(&a.blocklistFile, "blocklist-file", "", "the operator's file of blocked target domains, one a line; the API refuses links to them and redirects to them answer 404; re-read when it changes")
	f.Duration(&a.blocklistPoll, "blocklist-poll-interval", 5*time.Second, "how often the blocklist file is checked for changes")
	f.Duration(&a.readTimeout, "api-read-timeout", 10*time.Second, "time an API request has to arrive whole, body included, and be answered; a body that stalls is cut")
	a.limits.define(f)
}

func (a *apiOptions) validate() error {
	if !a.enabled {
		if a.addr != "" {
			return errors.New("--api-address needs --api")
		}
		return nil
	}
	switch {
	case a.keysFile == "":
		return errors.New("--api needs --api-keys-file (API_KEYS_FILE): anonymous use is off")
	case (a.codeKey == "") == (a.codeKeyFile == ""):
		return errors.New("--api needs exactly one of --api-code-key and --api-code-key-file")
	case a.minCodeLength < 1 || a.minCodeLength > 11:
		return errors.New("--api-min-code-length must be between 1 and 11")
	case a.conns < 1:
		return errors.New("--api-max-conns must be positive")
	case a.keysReload < 0:
		return errors.New("--api-keys-reload-interval must not be negative")
	case a.blocklistPoll <= 0:
		return errors.New("--blocklist-poll-interval must be positive")
	case a.readTimeout <= 0:
		return errors.New("--api-read-timeout must be positive")
	}
	if a.defaultURL != "" {
		if u, err := url.Parse(a.defaultURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("--base-url must be an http or https URL")
		}
	}
	return a.limits.validate()
}

// codecKey returns the secret, read from its file when one is given.
func (a *apiOptions) codecKey() ([]byte, error) {
	if a.codeKeyFile == "" {
		return []byte(a.codeKey), nil
	}
	b, err := os.ReadFile(a.codeKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read api code key: %w", err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// buildAPI opens the API's pool and builds its handler. Keys and the code secret are read now,
// so a bad file stops the pod at start rather than failing requests.
func (d *deps) buildAPI(ctx context.Context, o options, log *slog.Logger) error {
	key, err := o.api.codecKey()
	if err != nil {
		return err
	}
	codec, err := links.NewCodec(key, o.api.minCodeLength)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	keys, err := api.LoadKeysFile(o.api.keysFile)
	if err != nil {
		return err
	}
	if keys.Len() == 0 {
		log.Warn("The API keys file holds no key; every API request will answer 401", "file", o.api.keysFile)
	}
	if o.api.keysReload > 0 {
		go keys.Watch(ctx, o.api.keysFile, o.api.keysReload, log) // until the server stops
	}
	dbOpts := store.Options{ViaPgBouncer: !o.databaseDirect, MaxConns: int32(min(o.api.conns, 1<<20))} //nolint:gosec // bounded
	if d.api, err = store.Open(ctx, o.databaseURL, dbOpts); err != nil {
		return fmt.Errorf("open api pool: %w", err)
	}
	cfg := api.Config{Site: o.site}
	o.api.limits.config(&cfg)
	d.handler, err = api.NewHandler(api.Deps{
		Store: d.api, Codec: codec, Keys: keys, Metrics: api.NewMetrics(d.registry), Logger: log,
		Limiter: o.api.limits.limiter(d.redis, log), Policy: d.policy.Policy, Config: cfg,
	})
	return err
}

// redirectorAPI is the API the redirect listener serves: none when it has a listener of its own.
func redirectorAPI(o options, d *deps) http.Handler {
	if o.api.addr != "" || d.handler == nil {
		return nil
	}
	return withReadDeadline(d.handler, o.api.readTimeout)
}

// withReadDeadline gives each request d to be read whole, as http.Server's ReadTimeout does on
// the API's own listener. The redirect listener has no ReadTimeout, since a redirect reads no
// body and a deadline on every request costs the hot path a timer (see ConnGuard); the API
// reads bodies, and one that stalls would otherwise hold its connection, and a graceful stop,
// forever.
func withReadDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)) // fails only without a conn (tests)
		h.ServeHTTP(w, r)
	})
}

// listenAPI opens --api-address, or returns nil when the API has no listener of its own.
func listenAPI(ctx context.Context, o options, d *deps) (net.Listener, error) {
	if o.api.addr == "" || d.handler == nil {
		return nil, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.api.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.api.addr, err)
	}
	return ln, nil
}

// serveAPI serves the API on ln (nil: nothing to do), reporting a failure on errs, and returns
// what stops it gracefully by ctx's deadline.
func serveAPI(ln net.Listener, o options, d *deps, log *slog.Logger, errs chan<- error) (stop func(ctx context.Context) error) {
	if ln == nil {
		return func(context.Context) error { return nil }
	}
	srv := &http.Server{
		Handler: d.handler, ReadHeaderTimeout: headerTimeout, ReadTimeout: o.api.readTimeout, IdleTimeout: idleTimeout,
	}
	go func() { errs <- srv.Serve(ln) }()
	log.Info("Serving the API", "apiAddress", ln.Addr().String())
	return srv.Shutdown
}
