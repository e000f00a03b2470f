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
	"slices"
	"testing"
)

func TestParseLDD(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []string
		wantErr   bool
	}{{
		name: "libraries, the loader and the vDSO",
		out: "\tlinux-vdso.so.1 (0x00007ffd)\n" +
			"\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f97)\n" +
			"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f96)\n" +
			"\t/lib64/ld-linux-x86-64.so.2 (0x00007f98)\n" +
			"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f96)\n",
		want: []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libssl.so.3", "/lib64/ld-linux-x86-64.so.2"},
	}, {
		name:    "a library the loader cannot find",
		out:     "\tlibcares.so.2 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f96)\n",
		wantErr: true,
	}, {
		name:    "a static binary",
		out:     "\tstatically linked\n",
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLDD([]byte(tc.out))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	base := []string{"-binary", "/usr/sbin/pgbouncer", "-ref", "shortlink.dev/test/pgbouncer:1", "-out", "x.tar"}
	for _, tc := range []struct {
		name       string
		args       []string
		entrypoint string
		uid, gid   int
		wantErr    bool
	}{
		{name: "defaults", entrypoint: "/pgbouncer", uid: nonRoot, gid: nonRoot},
		{name: "path and user", args: []string{"-path", "/usr/bin/pgbouncer", "-user", "998:996"}, entrypoint: "/usr/bin/pgbouncer", uid: 998, gid: 996},
		{name: "relative path", args: []string{"-path", "usr/bin/pgbouncer"}, wantErr: true},
		{name: "unclean path", args: []string{"-path", "/usr/bin/../pgbouncer"}, wantErr: true},
		{name: "root", args: []string{"-user", "0:0"}, wantErr: true},
		{name: "no gid", args: []string{"-user", "998"}, wantErr: true},
		{name: "a name", args: []string{"-user", "postgres:postgres"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(append(slices.Clone(base), tc.args...))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (o.entrypoint != tc.entrypoint || o.uid != tc.uid || o.gid != tc.gid) {
				t.Errorf("got %s %d:%d, want %s %d:%d", o.entrypoint, o.uid, o.gid, tc.entrypoint, tc.uid, tc.gid)
			}
		})
	}
}
