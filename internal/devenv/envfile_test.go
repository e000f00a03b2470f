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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/api"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// offline is a platform whose components are described but not started: enough for the files
// devenv writes.
func offline(t *testing.T) *Platform {
	t.Helper()
	return &Platform{
		Env: &localenv.Env{RunDir: t.TempDir(), Kube: &localenv.Kube{Kubeconfig: "/kubeconfig"},
			Postgres: &localenv.Postgres{Port: 5001}, PgBouncer: &localenv.PgBouncer{Port: 5002}, Redis: &localenv.Redis{Port: 5003}},
		RedirectorAddr: "127.0.0.1:5004", RedirectorMetricsAddr: "127.0.0.1:5005",
		ManagerMetricsAddr: "127.0.0.1:5006", ManagerProbeAddr: "127.0.0.1:5007",
		opts: Options{DefaultDomain: "localhost"},
	}
}

// TestAPIFilesLoadInTheRedirector: the development key file is in the redirector's format and
// holds the key the env file gives, and the code key is long enough for links.NewCodec.
func TestAPIFilesLoadInTheRedirector(t *testing.T) {
	p := offline(t)
	if err := p.writeAPIFiles(); err != nil {
		t.Fatal(err)
	}
	keys, err := api.LoadKeysFile(p.api.keysFile)
	if err != nil {
		t.Fatal(err)
	}
	if keys.Len() != 1 {
		t.Fatalf("keys file holds %d keys, want 1", keys.Len())
	}
	if len(p.APIKey()) < api.MinKeyLength {
		t.Errorf("key %q is shorter than %d", p.APIKey(), api.MinKeyLength)
	}
	data, err := os.ReadFile(p.api.keysFile)
	if err != nil || !strings.Contains(string(data), "dev:"+p.APIKey()+"\n") {
		t.Errorf("keys file %q (%v) does not hold the key", data, err)
	}
	code, err := os.ReadFile(p.api.codeKeyFile)
	if err != nil || len(strings.TrimSpace(string(code))) < 16 {
		t.Errorf("code key %q (%v): want at least 16 bytes", code, err)
	}
	other := offline(t)
	if err := other.writeAPIFiles(); err != nil {
		t.Fatal(err)
	}
	if other.APIKey() == p.APIKey() {
		t.Error("two runs made the same key")
	}
}

// TestEnvFileHasTheAPI: bin/dev/env gives API_URL and API_KEY, and only its owner may read it.
func TestEnvFileHasTheAPI(t *testing.T) {
	p := offline(t)
	if err := p.writeAPIFiles(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "env")
	if err := p.WriteEnvFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path) //nolint:gosec // the test's own file
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"API_URL='http://localhost:5004/api/v1'\n", "API_KEY='" + p.APIKey() + "'\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("env file lacks %q:\n%s", want, data)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("env file mode %v (%v), want 0600: it holds the API key", info.Mode().Perm(), err)
	}
}
