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

package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// MinKeyLength is the shortest API key accepted, so keys cannot be guessed.
const MinKeyLength = 16

// The operations a key may be allowed (ops=), each covering some endpoints.
const (
	opCreate = "create" // POST /api/v1/links, POST /api/v1/links:batch
	opRead   = "read"   // GET a link, the listing and a link's visits
	opUpdate = "update" // PATCH
	opDelete = "delete" // DELETE
)

var allOps = []string{opCreate, opRead, opUpdate, opDelete}

// scopeAdmin is the scope= of a key that may act on every API link, not only its own.
const scopeAdmin = "admin"

// Keys are the API keys, kept only as SHA-256 hashes, each with its holder's name and what it
// may do. Keys is safe for concurrent use; Watch replaces its contents when the file changes.
type Keys struct {
	set atomic.Pointer[keySet]
	// metrics, once a handler uses the keys, shows how many are in use and failed reloads.
	metrics atomic.Pointer[Metrics]
}

// keySet is one reading of a key file.
type keySet struct {
	byHash map[[sha256.Size]byte]*grant
	// source is the hash of the file's bytes, so Watch can tell a changed file.
	source [sha256.Size]byte
}

// grant is what one key may do.
type grant struct {
	name string
	// ops and domains are nil when the key may do everything, or act on every served domain.
	ops     []string
	domains []string
	// admin keys see and change every API link, and list declared ones; other keys only the
	// API links they made.
	admin bool
}

// LoadKeys reads a key file: one key a line, as "name:key", or "name:sha256:<64 hex digits>"
// to keep only the key's hash in the file, optionally followed by whitespace-separated
// attributes that narrow what the key may do:
//
//	ci:0123456789abcdef
//	newsletter:sha256:<hex> ops=create,read domains=go.example.com,s.example.com
//	ops-team:sha256:<hex> scope=admin
//
// ops= lists the operations allowed (create, read, update, delete; absent: all of them) and
// domains= the served domains the key may act on (absent: every one; name the default domain
// to allow it). A request outside them answers 403. scope=admin lets the key see and change
// every API link and list declared ones; without it a key sees and changes only the API links
// made under its name. Blank lines and lines starting with '#' are skipped. The name owns the
// key's links, so a rotated key keeps them under the same name; a key may hold ':' characters
// but no whitespace. The same key on two lines is an error.
func LoadKeys(r io.Reader) (*Keys, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	set, err := parseKeys(b)
	if err != nil {
		return nil, err
	}
	k := &Keys{}
	k.set.Store(set)
	return k, nil
}

// LoadKeysFile reads a key file (see LoadKeys).
func LoadKeysFile(path string) (*Keys, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the path is the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("open api keys: %w", err)
	}
	return LoadKeys(bytes.NewReader(b))
}

func parseKeys(b []byte) (*keySet, error) {
	set := &keySet{byHash: make(map[[sha256.Size]byte]*grant), source: sha256.Sum256(b)}
	// A key on two lines would leave the second's grant in force, silently: refused, so a file
	// that narrows a key in one place and forgets another is an error rather than a surprise.
	lineOf := make(map[[sha256.Size]byte]int)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hash, g, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("api keys line %d: %w", n, err)
		}
		if first, ok := lineOf[hash]; ok {
			return nil, fmt.Errorf("api keys line %d: the same key as line %d", n, first)
		}
		lineOf[hash] = n
		set.byHash[hash] = g
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	return set, nil
}

func parseKeyLine(line string) ([sha256.Size]byte, *grant, error) {
	var hash [sha256.Size]byte
	fields := strings.Fields(line)
	name, key, ok := strings.Cut(fields[0], ":")
	if !ok || name == "" {
		return hash, nil, fmt.Errorf(`want "name:key" or "name:sha256:<hex>"`)
	}
	g := &grant{name: name}
	for _, attr := range fields[1:] {
		if err := g.parseAttribute(attr); err != nil {
			return hash, nil, fmt.Errorf("key %q: %w", name, err)
		}
	}
	if h, ok := strings.CutPrefix(key, "sha256:"); ok {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			return hash, nil, fmt.Errorf("key %q: sha256 needs 64 hex digits", name)
		}
		copy(hash[:], b)
		return hash, g, nil
	}
	if len(key) < MinKeyLength {
		return hash, nil, fmt.Errorf("key %q: shorter than %d characters", name, MinKeyLength)
	}
	return sha256.Sum256([]byte(key)), g, nil
}

func (g *grant) parseAttribute(attr string) error {
	what, list, _ := strings.Cut(attr, "=")
	values := strings.Split(list, ",")
	switch {
	case list == "" || slices.Contains(values, ""):
		return fmt.Errorf("attribute %q: want %s=<a>,<b>", attr, what)
	case what == "ops" && g.ops == nil:
		for _, op := range values {
			if !slices.Contains(allOps, op) {
				return fmt.Errorf("unknown operation %q; want some of %s", op, strings.Join(allOps, ","))
			}
		}
		g.ops = values
	case what == "scope" && !g.admin:
		if list != scopeAdmin {
			return fmt.Errorf("unknown scope %q; want %s", list, scopeAdmin)
		}
		g.admin = true
	case what == "domains" && g.domains == nil:
		for _, d := range values {
			n, err := links.NormalizeDomain(d)
			if err != nil {
				return fmt.Errorf("domains: %w", err)
			}
			g.domains = append(g.domains, n)
		}
	default:
		return fmt.Errorf("attribute %q: want ops=, domains= or scope=, each at most once", attr)
	}
	return nil
}

// Len returns how many keys there are.
func (k *Keys) Len() int { return len(k.set.Load().byHash) }

// holder returns the name of the key in r's "Authorization: Bearer <key>" header.
func (k *Keys) holder(r *http.Request) (string, bool) {
	g, ok := k.grant(r)
	if !ok {
		return "", false
	}
	return g.name, true
}

// grant returns what the key in r's "Authorization: Bearer <key>" header may do. Looking up
// the key's hash, rather than comparing keys, leaks nothing usable through timing.
func (k *Keys) grant(r *http.Request) (*grant, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || k == nil {
		return nil, false
	}
	g, ok := k.set.Load().byHash[sha256.Sum256([]byte(strings.TrimSpace(key)))]
	return g, ok
}

func (g *grant) allowsOp(op string) bool {
	return g.ops == nil || slices.Contains(g.ops, op)
}

// ownedBy is the owner the key's changes and listings are limited to: its name, or "" (any)
// for an admin key.
func (g *grant) ownedBy() string {
	if g.admin {
		return ""
	}
	return g.name
}

// mayRead reports whether the key may read row: any declared link (read-only to every key),
// an API link it made, or any for an admin key. Links made before links had owners have none,
// and only admin keys see them.
func (g *grant) mayRead(row store.Row) bool {
	return row.Source != links.SourceAPI || g.admin || row.Owner == g.name
}

// allowsDomain reports whether the key may act on host (normalized; the default domain by name).
func (g *grant) allowsDomain(host string) bool {
	return g.domains == nil || slices.Contains(g.domains, host)
}
