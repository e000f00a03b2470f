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
	"os"
	"strings"

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
}

func (a *apiOptions) define(f *envflag.Set) {
	f.Bool(&a.enabled, "api", false, "serve the create API under /api/v1/")
	f.String(&a.keysFile, "api-keys-file", "", `API keys, one "name:key" or "name:sha256:<hex>" a line (required with --api)`)
	f.String(&a.codeKey, "api-code-key", "", "secret (at least 16 bytes) that keeps generated codes unguessable; changing it changes every new code")
	f.String(&a.codeKeyFile, "api-code-key-file", "", "file holding the --api-code-key secret instead (surrounding whitespace is ignored)")
	f.Int(&a.minCodeLength, "api-min-code-length", 6, "length of the shortest generated code")
	f.Int(&a.conns, "api-max-conns", 4, "size of the create API's pool, apart from lookups and stats")
}

func (a *apiOptions) validate() error {
	if !a.enabled {
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
	}
	return nil
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
	dbOpts := store.Options{ViaPgBouncer: !o.databaseDirect, MaxConns: int32(min(o.api.conns, 1<<20))} //nolint:gosec // bounded
	if d.api, err = store.Open(ctx, o.databaseURL, dbOpts); err != nil {
		return fmt.Errorf("open api pool: %w", err)
	}
	d.handler, err = api.NewHandler(api.Deps{
		Store: d.api, Codec: codec, Keys: keys, Metrics: api.NewMetrics(d.registry), Logger: log,
		Config: api.Config{DefaultDomain: o.defaultDomain, Domains: o.domainList()},
	})
	return err
}
