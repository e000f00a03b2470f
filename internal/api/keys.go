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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// MinKeyLength is the shortest API key accepted, so keys cannot be guessed.
const MinKeyLength = 16

// Keys are the API keys, kept only as SHA-256 hashes, each with the name of its holder. Keys
// is immutable and safe for concurrent use.
type Keys struct {
	byHash map[[sha256.Size]byte]string
}

// LoadKeys reads a key file: one key a line, as "name:key", or "name:sha256:<64 hex digits>"
// to keep only the key's hash in the file. Blank lines and lines starting with '#' are skipped.
// Names are for logs; a key may hold ':' characters.
func LoadKeys(r io.Reader) (*Keys, error) {
	k := &Keys{byHash: make(map[[sha256.Size]byte]string)}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("api keys line %d: %w", n, err)
		}
		k.byHash[hash] = name
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	return k, nil
}

// LoadKeysFile reads a key file (see LoadKeys).
func LoadKeysFile(path string) (*Keys, error) {
	f, err := os.Open(path) //nolint:gosec // the path is the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("open api keys: %w", err)
	}
	defer func() { _ = f.Close() }()
	return LoadKeys(f)
}

func parseKeyLine(line string) (string, [sha256.Size]byte, error) {
	var hash [sha256.Size]byte
	name, key, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return "", hash, fmt.Errorf(`want "name:key" or "name:sha256:<hex>"`)
	}
	if h, ok := strings.CutPrefix(key, "sha256:"); ok {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			return "", hash, fmt.Errorf("key %q: sha256 needs 64 hex digits", name)
		}
		copy(hash[:], b)
		return name, hash, nil
	}
	if len(key) < MinKeyLength {
		return "", hash, fmt.Errorf("key %q: shorter than %d characters", name, MinKeyLength)
	}
	return name, sha256.Sum256([]byte(key)), nil
}

// Len returns how many keys there are.
func (k *Keys) Len() int { return len(k.byHash) }

// holder returns the name of the key in r's "Authorization: Bearer <key>" header. Looking up
// the key's hash, rather than comparing keys, leaks nothing usable through timing.
func (k *Keys) holder(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || k == nil {
		return "", false
	}
	name, ok := k.byHash[sha256.Sum256([]byte(strings.TrimSpace(key)))]
	return name, ok
}
