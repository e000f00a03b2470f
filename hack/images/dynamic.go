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
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// nsswitch makes glibc's getaddrinfo and getpwuid read the image's /etc/hosts and /etc/passwd
// before asking DNS; without the file glibc asks DNS first. glibc 2.36 (Debian 12) has the
// files and dns services built in, so no libnss_*.so is needed. c-ares, which PgBouncer uses
// for its server hosts, reads the hosts line too, and /etc/resolv.conf, which kubelet mounts.
const nsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n" +
	"protocols: files\nservices: files\n"

// sharedLibraryLayer holds what a dynamically linked program needs to start: the loader and
// every shared library, each at the path the build machine's loader found it at, and the
// files glibc reads at run time.
func sharedLibraryLayer(binary string) (v1.Layer, error) {
	paths, err := sharedLibraries(binary)
	if err != nil {
		return nil, err
	}
	files := make([]file, 0, len(paths)+1)
	for _, p := range paths {
		// ReadFile follows symbolic links (/lib64/ld-linux-x86-64.so.2 is one on Debian), so the
		// image holds plain files at the paths the program and the loader ask for.
		data, err := os.ReadFile(p) //nolint:gosec // paths ldd printed for our own binary
		if err != nil {
			return nil, fmt.Errorf("read shared library: %w", err)
		}
		files = append(files, file{name: strings.TrimPrefix(p, "/"), mode: 0o755, data: data})
	}
	files = append(files, file{name: "etc/nsswitch.conf", mode: 0o644, data: []byte(nsswitch)})
	return layer(files)
}

// sharedLibraries asks the system's loader, through ldd, which files binary loads. ldd is the
// loader itself resolving the dependencies, transitively, through its cache, hardware
// capability directories and Debian's multiarch paths; reading DT_NEEDED with debug/elf would
// mean reimplementing that search. The price is that ldd runs the loader on binary, so it
// suits programs of the build machine's own architecture from its own packages, which is
// what this is for.
func sharedLibraries(binary string) ([]string, error) {
	out, err := exec.Command("ldd", binary).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldd %s (is it dynamically linked?): %w: %s", binary, err, bytes.TrimSpace(out))
	}
	return parseLDD(out)
}

// parseLDD reads ldd's output: "name => /path (address)" for a library, "/path (address)" for
// the loader, "name (address)" for the kernel's vDSO, which is no file. A library ldd could not
// find is an error: the image would not start.
func parseLDD(out []byte) ([]string, error) {
	seen := map[string]bool{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" {
			continue
		}
		if lib, where, ok := strings.Cut(line, "=>"); ok {
			line = strings.TrimSpace(where)
			if strings.HasPrefix(line, "not found") {
				return nil, fmt.Errorf("ldd: %s not found", strings.TrimSpace(lib))
			}
		}
		if p, _, _ := strings.Cut(line, " "); strings.HasPrefix(p, "/") {
			seen[p] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("ldd printed no libraries: %q", out)
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
