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
	"os"
	"path/filepath"
	"testing"
)

// TestStaticImageUnchanged pins the content of a one-static-binary image (its config blob,
// which names every layer's uncompressed digest): the manager and redirector images must stay
// byte-for-byte what they were before the assembler learnt dynamically linked programs. The
// digest is that of the assembler before that change, for these inputs.
func TestStaticImageUnchanged(t *testing.T) {
	const want = "sha256:c5e4458b7d189ed88372384d3fc547218760f4975aecd8b639ffba47e09a7f77"
	dir := t.TempDir()
	binary := filepath.Join(dir, "manager")
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(binary, []byte("not really a static binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-binary", binary, "-ca-certificates", ca, "-arch", "amd64",
		"-ref", "example.test/shortlink/manager:v0", "-out", filepath.Join(dir, "manager.tar"),
		"-port", "8080/tcp", "-port", "8081/tcp", "-label", "org.opencontainers.image.title=shortlink-manager", "-env", "A=b",
	}
	o, err := parseOptions(args)
	if err != nil {
		t.Fatal(err)
	}
	img, err := build(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("config digest %s, want %s: the static image changed", got, want)
	}
}
