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

// Package geotest writes tiny MaxMind-format (MMDB) country databases for tests, by hand in
// the documented format (https://maxmind.github.io/MaxMind-DB/): MaxMind's writer,
// github.com/maxmind/mmdbwriter, is not served by the module proxy this project builds with.
// It holds test support only; nothing outside tests imports it.
package geotest

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// CountryDB writes an IPv4 database mapping each prefix to a record {"country": {"iso_code":
// code}}, as GeoLite2-Country has it, into t's temporary directory and returns its path.
func CountryDB(t testing.TB, countries map[netip.Prefix]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	if err := os.WriteFile(path, Country(countries), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// node is a search-tree node; a child is another node or, at a prefix's end, a record.
type node struct {
	child [2]*node
	data  [2]int // 1 + the record's offset in the data section, 0 for none
}

// Country is the database CountryDB writes.
func Country(countries map[netip.Prefix]string) []byte {
	var data []byte
	offsets := make(map[string]int)
	codes := make([]string, 0, len(countries))
	for _, c := range countries {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if _, ok := offsets[c]; !ok {
			offsets[c] = len(data)
			data = appendMap(data, 1)
			data = appendString(data, "country")
			data = appendMap(data, 1)
			data = appendString(data, "iso_code")
			data = appendString(data, c)
		}
	}
	root := &node{}
	for p, c := range countries {
		insert(root, p.Masked(), offsets[c]+1)
	}
	nodes, index := number(root)
	var out []byte
	for _, n := range nodes {
		for side := range 2 {
			out = append24(out, record(n, side, index))
		}
	}
	out = append(out, make([]byte, 16)...) // the data section separator
	out = append(out, data...)
	out = append(out, "\xab\xcd\xefMaxMind.com"...)
	return appendMetadata(out, len(nodes))
}

// insert adds the record at data (1 + offset) for the IPv4 prefix p.
func insert(root *node, p netip.Prefix, data int) {
	addr := p.Addr().As4()
	n := root
	for bit := range p.Bits() {
		side := int(addr[bit/8]>>(7-bit%8)) & 1
		if bit == p.Bits()-1 {
			n.data[side] = data
			return
		}
		if n.child[side] == nil {
			n.child[side] = &node{}
		}
		n = n.child[side]
	}
}

// number lists the nodes breadth first, the root at 0, with each one's index.
func number(root *node) ([]*node, map[*node]int) {
	nodes, index := []*node{root}, map[*node]int{root: 0}
	for i := 0; i < len(nodes); i++ {
		for _, c := range nodes[i].child {
			if c != nil {
				index[c] = len(nodes)
				nodes = append(nodes, c)
			}
		}
	}
	return nodes, index
}

// record is a node's left or right record: a node's index, the node count for no data, or a
// pointer into the data section past its 16-byte separator.
func record(n *node, side int, index map[*node]int) uint32 {
	count := len(index)
	switch {
	case n.child[side] != nil:
		return uint32(index[n.child[side]]) //nolint:gosec // a test database's few nodes
	case n.data[side] > 0:
		return uint32(count + 16 + n.data[side] - 1) //nolint:gosec // a test database's few bytes
	default:
		return uint32(count) //nolint:gosec // a test database's few nodes
	}
}

// append24 appends a 24-bit record: the low three bytes of v, big-endian.
func append24(b []byte, v uint32) []byte {
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], v)
	return append(b, x[1:]...)
}

// The data section's types: a control byte holds the type in its top three bits and the size
// in the low five; types above 7 are "extended", the control byte's type 0 and the next byte
// the type less 7.
const (
	typeString = 2
	typeUint16 = 5
	typeUint32 = 6
	typeMap    = 7
	typeUint64 = 9
	typeArray  = 11
)

func appendControl(b []byte, typ, size int) []byte {
	if typ > 7 {
		return append(b, byte(size), byte(typ-7)) //nolint:gosec // sizes under 29, types under 16
	}
	return append(b, byte(typ<<5|size)) //nolint:gosec // sizes under 29, types under 8
}

func appendMap(b []byte, pairs int) []byte { return appendControl(b, typeMap, pairs) }

// appendString appends a string under 29 bytes, all this package writes.
func appendString(b []byte, s string) []byte {
	return append(appendControl(b, typeString, len(s)), s...)
}

func appendUint(b []byte, typ int, v uint64) []byte {
	raw := binary.BigEndian.AppendUint64(nil, v)
	for len(raw) > 0 && raw[0] == 0 {
		raw = raw[1:]
	}
	return append(appendControl(b, typ, len(raw)), raw...)
}

func appendMetadata(b []byte, nodeCount int) []byte {
	b = appendMap(b, 8)
	b = appendString(b, "node_count")
	b = appendUint(b, typeUint32, uint64(nodeCount)) //nolint:gosec // a count, never negative
	b = appendString(b, "record_size")
	b = appendUint(b, typeUint16, 24)
	b = appendString(b, "ip_version")
	b = appendUint(b, typeUint16, 4)
	b = appendString(b, "database_type")
	b = appendString(b, "Shortlink-Test-Country")
	b = appendString(b, "languages")
	b = appendControl(b, typeArray, 0)
	b = appendString(b, "binary_format_major_version")
	b = appendUint(b, typeUint16, 2)
	b = appendString(b, "binary_format_minor_version")
	b = appendUint(b, typeUint16, 0)
	b = appendString(b, "build_epoch")
	return appendUint(b, typeUint64, 1_780_000_000)
}
