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
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// image is what `make images` built for one binary.
type image struct {
	binary string // cmd/<binary>
	refEnv string // the Makefile variable with its reference
	flag   string // a flag its --help must list
}

var images = []image{
	{binary: "manager", refEnv: "MANAGER_IMG", flag: "-database-url"},
	{binary: "redirector", refEnv: "REDIRECTOR_IMG", flag: "-listen-address"},
}

// TestImages opens each image tarball and checks what a restricted pod relies on: a non-root
// user, the binary as entrypoint, CA certificates, no shell; then runs the binary's --help.
func TestImages(t *testing.T) {
	dir := os.Getenv("IMAGES_DIR")
	if dir == "" {
		missing(t, "IMAGES_DIR is not set: run `make test-manifests`, which builds the images first")
	}
	for _, im := range images {
		t.Run(im.binary, func(t *testing.T) {
			file := filepath.Join(dir, im.binary+".tar")
			ref := os.Getenv(im.refEnv)
			if ref == "" {
				missing(t, im.refEnv+" is not set: run `make test-manifests`")
			}
			tag, err := name.NewTag(ref)
			if err != nil {
				t.Fatal(err)
			}
			img, err := tarball.ImageFromPath(file, &tag)
			if err != nil {
				t.Fatalf("open %s as %s: %v", file, ref, err)
			}
			checkImageConfig(t, img, "/"+im.binary)
			files := imageFiles(t, img)
			checkImageFiles(t, files, im.binary)
			help := checkBinary(t, files[im.binary], im.flag)
			checkManifestsUse(t, ref, im.binary)
			checkEnvIsFlags(t, im.binary, help)
		})
	}
}

func checkImageConfig(t *testing.T, img v1.Image, entrypoint string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != entrypoint {
		t.Errorf("entrypoint %q, want [%s]", c.Entrypoint, entrypoint)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (the manifests' runAsUser)", c.User)
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	for _, l := range []string{"org.opencontainers.image.source", "org.opencontainers.image.version"} {
		if c.Labels[l] == "" {
			t.Errorf("no label %s", l)
		}
	}
}

// imageFiles reads the image's flattened filesystem: path (no leading slash) to header and
// content.
func imageFiles(t *testing.T, img v1.Image) map[string]*imageFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	files := map[string]*imageFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read image filesystem: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(path.Clean(strings.TrimPrefix(h.Name, "/")), "/")] = &imageFile{header: h, data: data}
	}
	return files
}

type imageFile struct {
	header *tar.Header
	data   []byte
}

func checkImageFiles(t *testing.T, files map[string]*imageFile, binary string) {
	t.Helper()
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/sh"} {
		if _, ok := files[shell]; ok {
			t.Errorf("the image has %s: it should hold no shell", shell)
		}
	}
	for p := range files {
		if strings.HasPrefix(p, "bin/") || strings.HasPrefix(p, "usr/") || strings.HasPrefix(p, "lib") {
			t.Errorf("unexpected %s: the image holds the binary, CA certificates and passwd only", p)
		}
	}
	ca, ok := files["etc/ssl/certs/ca-certificates.crt"]
	if !ok || !bytes.Contains(ca.data, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("no CA certificates at /etc/ssl/certs/ca-certificates.crt")
	}
	if pw, ok := files["etc/passwd"]; !ok || !bytes.Contains(pw.data, []byte(":65532:65532:")) {
		t.Errorf("no passwd entry for 65532")
	}
	bin, ok := files[binary]
	if !ok {
		t.Fatalf("no /%s in the image", binary)
	}
	if bin.header.Mode&0o111 == 0 {
		t.Errorf("/%s is not executable (mode %o)", binary, bin.header.Mode)
	}
}

// checkBinary: the binary is static (there is no libc in the image) and answers --help, which
// it returns.
func checkBinary(t *testing.T, f *imageFile, flag string) string {
	t.Helper()
	ef, err := elf.NewFile(bytes.NewReader(f.data))
	if err != nil {
		t.Fatalf("not an ELF binary: %v", err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary is dynamically linked; the image has no loader (build with CGO_ENABLED=0)")
		}
	}
	bin := filepath.Join(t.TempDir(), path.Base(f.header.Name))
	if err := os.WriteFile(bin, f.data, 0o755); err != nil { //nolint:gosec // a binary to run
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--help").CombinedOutput() //nolint:gosec // the binary under test
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", path.Base(bin), err, out)
	}
	if !strings.Contains(string(out), flag) {
		t.Errorf("%s --help does not list %s:\n%s", path.Base(bin), flag, out)
	}
	return string(out)
}

var flagRE = regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`)

// checkEnvIsFlags: every environment variable the manifests set is the twin of one of the
// binary's flags (--database-max-conns / DATABASE_MAX_CONNS), so a misspelt one cannot be
// silently ignored. The shared settings ConfigMap also carries the manager's BASE_URL and
// INSTALL_ID, which the redirector does not read.
func checkEnvIsFlags(t *testing.T, component, help string) {
	t.Helper()
	envs := map[string]bool{}
	for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
		envs[strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))] = true
	}
	for _, n := range []string{kustomizeDefault, helmDefault} {
		r := render(t, n)
		c := containers(t, r.component(t, component))[0]
		names := []string{"DEFAULT_DOMAIN", "DOMAINS"}
		if component == "manager" {
			settings := r.one(t, "ConfigMap", "shortlink-settings").Object["data"].(map[string]any)
			names = sortedKeys(settings)
		}
		for _, e := range c["env"].([]any) {
			names = append(names, e.(map[string]any)["name"].(string))
		}
		for _, env := range names {
			if !envs[env] {
				t.Errorf("%s: the %s sets %s, which is no flag's twin (flags: %v)", n, component, env, sortedKeys(envs))
			}
		}
	}
}

// checkManifestsUse: both renderings run the image `make images` built.
func checkManifestsUse(t *testing.T, ref, component string) {
	t.Helper()
	for _, n := range []string{kustomizeDefault, helmDefault} {
		c := containers(t, render(t, n).component(t, component))[0]
		if c["image"] != ref {
			t.Errorf("%s runs %v for the %s, `make images` builds %s", n, c["image"], component, ref)
		}
	}
}
