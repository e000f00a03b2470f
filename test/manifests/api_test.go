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

package manifests

import (
	"encoding/base64"
	"encoding/hex"
	"path"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// apiOn says which renderings turn the create API on: the evaluation shapes do, the production
// defaults do not (it needs Secrets only the installer can make).
var apiOn = map[string]bool{kustomizeDefault: false, helmDefault: false, kustomizeEvaluation: true, helmAllOn: true}

// TestCreateAPIDeployment: where the API is on, the redirector reads its keys file and code key
// from a Secret mounted as a directory (no subPath, so an edited Secret reaches running pods and
// the keys are reloaded), and divides its rate limits by the HPA's maximum while Redis is down.
func TestCreateAPIDeployment(t *testing.T) {
	for _, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			d := r.component(t, "redirector")
			c := containers(t, d)[0]
			if got := envValue(c, "API") == "true"; got != apiOn[r.name] {
				t.Fatalf("API on = %v, want %v", got, apiOn[r.name])
			}
			if !apiOn[r.name] {
				return
			}
			maxReplicas, _, _ := unstructured.NestedInt64(r.one(t, "HorizontalPodAutoscaler", "shortlink-redirector").Object, "spec", "maxReplicas")
			if got := envValue(c, "API_REPLICAS"); got != strconv.FormatInt(maxReplicas, 10) {
				t.Errorf("API_REPLICAS = %q, want the HPA's maxReplicas %d", got, maxReplicas)
			}
			for _, name := range []string{"API_IP_RATE", "API_IP_BURST", "API_KEY_RATE", "API_KEY_BURST", "API_MAX_CONNS", "API_MIN_CODE_LENGTH"} {
				if _, err := strconv.ParseFloat(envValue(c, name), 64); err != nil {
					t.Errorf("%s = %q, want a number", name, envValue(c, name))
				}
			}
			sources := mountedSecrets(t, d, c)
			for env, key := range map[string]string{"API_KEYS_FILE": "keys", "API_CODE_KEY_FILE": "code-key"} {
				file := envValue(c, env)
				secret, ok := sources[file]
				if !ok {
					t.Errorf("%s = %q is not a Secret key mounted without subPath; mounted: %v", env, file, sources)
					continue
				}
				if secret[1] != key {
					t.Errorf("%s comes from key %q of Secret %s, want %q", env, secret[1], secret[0], key)
				}
				checkEvaluationSecret(t, r, secret[0], key)
			}
		})
	}
}

// mountedSecrets maps each file a container sees from a secret or projected-secret volume to
// its Secret's name and key. Mounts with subPath are left out: they never see an update.
func mountedSecrets(t *testing.T, d *unstructured.Unstructured, c map[string]any) map[string][2]string {
	t.Helper()
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	byVolume := map[string][][3]string{} // volume -> (secret, key, path)
	for _, v := range volumes {
		vm := v.(map[string]any)
		var secrets []map[string]any
		if s, ok := vm["secret"].(map[string]any); ok {
			secrets = append(secrets, map[string]any{"name": s["secretName"], "items": s["items"]})
		}
		srcs, _, _ := unstructured.NestedSlice(vm, "projected", "sources")
		for _, src := range srcs {
			if s, ok := src.(map[string]any)["secret"].(map[string]any); ok {
				secrets = append(secrets, s)
			}
		}
		for _, s := range secrets {
			items, _ := s["items"].([]any)
			for _, it := range items {
				im := it.(map[string]any)
				byVolume[vm["name"].(string)] = append(byVolume[vm["name"].(string)],
					[3]string{s["name"].(string), im["key"].(string), im["path"].(string)})
			}
		}
	}
	out := map[string][2]string{}
	mounts, _ := c["volumeMounts"].([]any)
	for _, m := range mounts {
		mm := m.(map[string]any)
		if mm["subPath"] != nil {
			continue
		}
		for _, f := range byVolume[mm["name"].(string)] {
			out[path.Join(mm["mountPath"].(string), f[2])] = [2]string{f[0], f[1]}
		}
	}
	return out
}

// checkEvaluationSecret: the evaluation renderings make the API's Secrets themselves; the keys
// file must be in the redirector's format, and the code key long enough.
func checkEvaluationSecret(t *testing.T, r *rendering, name, key string) {
	t.Helper()
	s, ok := r.find("Secret")[name]
	if !ok {
		t.Errorf("no Secret %s in the evaluation rendering", name)
		return
	}
	value, found, _ := unstructured.NestedString(s.Object, "stringData", key)
	if !found {
		enc, _, _ := unstructured.NestedString(s.Object, "data", key)
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Errorf("Secret %s key %s: %v", name, key, err)
		}
		value = string(b)
	}
	switch key {
	case "keys":
		if n, bad := keyLines(value); n == 0 || bad != "" {
			t.Errorf("Secret %s: %d keys; a line not \"name:key\" (key of 16+ characters) or \"name:sha256:<hex>\": %q", name, n, bad)
		}
	case "code-key":
		if len(strings.TrimSpace(value)) < 16 {
			t.Errorf("Secret %s: code key shorter than 16 bytes", name)
		}
	}
}

// keyLines counts the keys of a keys file (internal/api.LoadKeys' format; this module keeps
// the main module's HTTP dependencies out) and returns the first line it would refuse.
func keyLines(file string) (n int, bad string) {
	for line := range strings.SplitSeq(file, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// Attributes (ops=…, domains=…) may follow the key after whitespace.
		name, key, ok := strings.Cut(strings.Fields(line)[0], ":")
		if h, isHash := strings.CutPrefix(key, "sha256:"); isHash {
			b, err := hex.DecodeString(h)
			ok = ok && err == nil && len(b) == 32
		} else {
			ok = ok && len(key) >= 16
		}
		if !ok || name == "" {
			return n, line
		}
		n++
	}
	return n, ""
}
