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

// Command images writes a container image of one static binary as an image tarball (the
// `docker save` layout that `kind load image-archive`, `docker load` and `crane push` read),
// without Docker: an empty base, the build machine's CA certificates, a passwd entry for the
// non-root user 65532, and the binary. Nothing else is in the image: no shell, no libc.
//
// It holds image assembly only; what goes into the binary is the Makefile's `go build`.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonRoot is distroless's "nonroot" user and group; the manifests' securityContext says the same.
const nonRoot = 65532

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

type options struct {
	binary, ref, out, caFile, arch string
	ports, labels, env             list
}

// list collects a repeated flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string, stdout io.Writer) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	img, err := build(o)
	if err != nil {
		return err
	}
	return write(o, img, stdout)
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	fs.StringVar(&o.binary, "binary", "", "static binary to put at /<its base name>, the entrypoint (required)")
	fs.StringVar(&o.ref, "ref", "", "image reference the tarball carries, registry/repository:tag (required)")
	fs.StringVar(&o.out, "out", "", "tarball to write (required)")
	fs.StringVar(&o.caFile, "ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied to the same path in the image")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "architecture the binary was built for")
	fs.Var(&o.ports, "port", "exposed port, e.g. 8080/tcp (repeatable)")
	fs.Var(&o.labels, "label", "image label key=value (repeatable)")
	fs.Var(&o.env, "env", "environment variable key=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.binary == "" || o.ref == "" || o.out == "" {
		return o, errors.New("-binary, -ref and -out are required")
	}
	return o, nil
}

// write saves img as a tarball under o.ref and prints the file, the reference and the digest.
func write(o options, img v1.Image, stdout io.Writer) error {
	tag, err := name.NewTag(o.ref, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("parse -ref: %w", err)
	}
	if err := tarball.WriteToFile(o.out, tag, img); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s %s %s\n", o.out, tag, digest)
	return err
}

// build assembles the image: a base layer (CA certificates, passwd, group) that is the same for
// every binary, then the binary's own layer.
func build(o options) (v1.Image, error) {
	ca, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates (install Debian's ca-certificates): %w", err)
	}
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	entry := "/" + path.Base(o.binary)
	passwd := fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonRoot, nonRoot)
	base, err := layer([]file{
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "etc/passwd", mode: 0o644, data: passwd},
		{name: "etc/group", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", nonRoot)},
		{name: "home/nonroot/", mode: 0o700, uid: nonRoot},
		{name: "tmp/", mode: 0o1777},
	})
	if err != nil {
		return nil, err
	}
	app, err := layer([]file{{name: strings.TrimPrefix(entry, "/"), mode: 0o755, data: bin}})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, base, app); err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = o.arch, "linux"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config = v1.Config{
		Entrypoint:   []string{entry},
		User:         fmt.Sprintf("%d:%d", nonRoot, nonRoot),
		WorkingDir:   "/",
		Env:          append([]string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}, o.env...),
		Labels:       keyValues(o.labels),
		ExposedPorts: map[string]struct{}{},
	}
	for _, p := range o.ports {
		cf.Config.ExposedPorts[p] = struct{}{}
	}
	return mutate.ConfigFile(img, cf)
}

type file struct {
	name string // a trailing slash makes a directory
	mode int64
	uid  int
	data []byte
}

// layer writes files into an OCI layer with fixed times and owners, so the same inputs make the
// same digest.
func layer(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(strings.TrimSuffix(f.name, "/")); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents before children
	for _, d := range sorted {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: time.Unix(0, 0)}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func keyValues(pairs []string) map[string]string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return m
}
