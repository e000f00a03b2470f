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

package devenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// devRateLimit is the per-client-IP and per-key rate, in requests a second, of the dev
// redirectors' create API, and devBurst, ten times it, their burst. Every local client is
// 127.0.0.1, so the production default of 5 requests a second per IP would refuse a shell loop
// or a test; the limiter stays on (not 0), so the Redis path runs here as it does in a cluster.
const (
	devRateLimit = 1000
	devBurst     = 10 * devRateLimit
)

// apiFiles are the create API's secrets for this run, made fresh by writeAPIFiles.
type apiFiles struct {
	key, keysFile, codeKeyFile string
}

// writeAPIFiles makes a random development key and code key and writes them under the run
// directory, where they go with it: the keys file ("dev:<key>", the format of a cluster's
// Secret) and the code key file.
func (p *Platform) writeAPIFiles() error {
	dir := filepath.Join(p.Env.RunDir, "api")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create api directory: %w", err)
	}
	key, codeKey := "dev_"+randomHex(16), randomHex(32)
	p.api = apiFiles{key: key, keysFile: filepath.Join(dir, "keys"), codeKeyFile: filepath.Join(dir, "code-key")}
	if err := os.WriteFile(p.api.keysFile, []byte("# make dev's key, made for this run\ndev:"+key+"\n"), 0o600); err != nil {
		return fmt.Errorf("write api keys: %w", err)
	}
	if err := os.WriteFile(p.api.codeKeyFile, []byte(codeKey+"\n"), 0o600); err != nil {
		return fmt.Errorf("write api code key: %w", err)
	}
	return nil
}

// apiEnv turns the create API on in a redirector's environment.
func (p *Platform) apiEnv() []string {
	return []string{
		"API=true",
		"API_KEYS_FILE=" + p.api.keysFile,
		"API_CODE_KEY_FILE=" + p.api.codeKeyFile,
		"API_IP_RATE=" + strconv.Itoa(devRateLimit), "API_IP_BURST=" + strconv.Itoa(devBurst),
		"API_KEY_RATE=" + strconv.Itoa(devRateLimit), "API_KEY_BURST=" + strconv.Itoa(devBurst),
	}
}

// APIURL is the base of the create API: POST $APIURL/links creates a link.
func (p *Platform) APIURL() string { return p.RedirectorURL() + "/api/v1" }

// APIKey is this run's development API key (Authorization: Bearer <key>).
func (p *Platform) APIKey() string { return p.api.key }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
