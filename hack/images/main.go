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

// Command images writes a container image of one program as an image tarball (the
// `docker save` layout that `kind load image-archive`, `docker load` and `crane push` read),
// without Docker: an empty base, the build machine's CA certificates, a passwd entry for a
// non-root user (65532 unless -user says otherwise), and the program. For a static binary
// (the manager, the redirector) nothing else is in the image: no shell, no libc. With
// -shared-libraries it also holds the dynamic loader and the build machine's copies of the
// shared libraries the program needs (the local PgBouncer test image).
//
// It holds image assembly only; what goes into the binary is the Makefile's `go build` or a
// Debian package.
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
	"strconv"
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
	// entrypoint is where the program goes in the image; "" puts it at /<its base name>.
	entrypoint string
	// uid and gid of the image's user, named nonroot.
	uid, gid int
	// sharedLibraries adds the loader, the libraries and the files glibc reads at run time.
	sharedLibraries bool
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
	fs.StringVar(&o.binary, "binary", "", "program to put in the image, the entrypoint (required)")
	fs.StringVar(&o.entrypoint, "path", "", "absolute path of the program in the image (default /<its base name>)")
	user := fs.String("user", fmt.Sprintf("%d:%d", nonRoot, nonRoot), "uid:gid the image runs as, both non-zero")
	fs.BoolVar(&o.sharedLibraries, "shared-libraries", false,
		"the program is dynamically linked: add its shared libraries (found with ldd), the loader and /etc/nsswitch.conf")
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
	if o.entrypoint == "" {
		o.entrypoint = "/" + path.Base(o.binary)
	}
	if !path.IsAbs(o.entrypoint) || path.Clean(o.entrypoint) != o.entrypoint {
		return o, fmt.Errorf("-path %q: want a clean absolute path", o.entrypoint)
	}
	var err error
	if o.uid, o.gid, err = parseUser(*user); err != nil {
		return o, err
	}
	return o, nil
}

// parseUser reads uid:gid; root is refused because the chart's pods run with runAsNonRoot.
func parseUser(s string) (uid, gid int, err error) {
	u, g, ok := strings.Cut(s, ":")
	if ok {
		uid, err = strconv.Atoi(u)
	}
	if ok && err == nil {
		gid, err = strconv.Atoi(g)
	}
	if !ok || err != nil || uid <= 0 || gid <= 0 {
		return 0, 0, fmt.Errorf("-user %q: want uid:gid, both positive numbers", s)
	}
	return uid, gid, nil
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
// every static binary, the shared libraries when asked for, then the program's own layer.
func build(o options) (v1.Image, error) {
	base, err := baseLayer(o)
	if err != nil {
		return nil, err
	}
	layers := []v1.Layer{base}
	if o.sharedLibraries {
		libs, err := sharedLibraryLayer(o.binary)
		if err != nil {
			return nil, err
		}
		layers = append(layers, libs)
	}
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	app, err := layer([]file{{name: strings.TrimPrefix(o.entrypoint, "/"), mode: 0o755, data: bin}})
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, append(layers, app)...); err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	return configure(img, o)
}

func baseLayer(o options) (v1.Layer, error) {
	ca, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates (install Debian's ca-certificates): %w", err)
	}
	passwd := fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", o.uid, o.gid)
	return layer([]file{
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca},
		{name: "etc/passwd", mode: 0o644, data: passwd},
		{name: "etc/group", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", o.gid)},
		{name: "home/nonroot/", mode: 0o700, uid: o.uid, gid: o.gid},
		{name: "tmp/", mode: 0o1777},
	})
}

// configure sets the platform (containerd's `ctr images import` skips images without one), the
// entrypoint, the user and a fixed creation time, so the same inputs make the same digest.
func configure(img v1.Image, o options) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = o.arch, "linux"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config = v1.Config{
		Entrypoint:   []string{o.entrypoint},
		User:         fmt.Sprintf("%d:%d", o.uid, o.gid),
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
	name     string // a trailing slash makes a directory
	mode     int64
	uid, gid int
	data     []byte
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
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: time.Unix(0, 0)}
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
