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

package links_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

const testKey = "0123456789abcdef-test-only-key"

func newCodec(t testing.TB, minLength int) *links.Codec {
	t.Helper()
	c, err := links.NewCodec([]byte(testKey), minLength)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

func TestCodecBijective(t *testing.T) {
	c := newCodec(t, 6)
	n := uint64(200_000)
	if testing.Short() {
		n = 20_000
	}
	seen := make(map[string]uint64, n)
	for i := uint64(1); i <= n; i++ {
		code := c.Encode(i)
		if prev, dup := seen[code]; dup {
			t.Fatalf("Encode(%d) = Encode(%d) = %q", i, prev, code)
		}
		seen[code] = i
		if len(code) != 6 || !links.ValidCode(code) {
			t.Fatalf("Encode(%d) = %q: want a valid 6-character code", i, code)
		}
		if got, err := c.Decode(code); err != nil || got != i {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", i, got, err)
		}
	}
}

func TestCodecNotSequential(t *testing.T) {
	c := newCodec(t, 6)
	const n = 1000
	ascending, sharedPrefix := 0, 0
	prev := c.Encode(0)
	for i := uint64(1); i <= n; i++ {
		code := c.Encode(i)
		if code > prev {
			ascending++
		}
		if code[:3] == prev[:3] {
			sharedPrefix++
		}
		prev = code
	}
	// A random order is ascending about half the time; neighbours share a 3-character prefix
	// with probability 62^-3.
	if ascending < n*4/10 || ascending > n*6/10 {
		t.Errorf("%d of %d consecutive codes ascend: codes follow the counter", ascending, n)
	}
	if sharedPrefix > 5 {
		t.Errorf("%d of %d consecutive codes share a prefix", sharedPrefix, n)
	}
}

func TestCodecKeyMatters(t *testing.T) {
	other, err := links.NewCodec([]byte("another-key-of-sixteen-bytes"), 6)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	c := newCodec(t, 6)
	same := 0
	for i := range uint64(100) {
		if c.Encode(i) == other.Encode(i) {
			same++
		}
	}
	if same > 1 {
		t.Errorf("%d of 100 codes are the same under two keys", same)
	}
}

func TestCodecLengths(t *testing.T) {
	tests := []struct {
		minLength int
		n         uint64
		length    int
	}{
		{1, 0, 1},
		{1, 61, 1},
		{1, 62, 2},
		{1, 62 + 62*62 - 1, 2},
		{1, 62 + 62*62, 3},
		{4, 0, 4},
		{4, 14_776_335, 4}, // 62^4 - 1
		{4, 14_776_336, 5},
		{6, 1, 6},
		{1, math.MaxUint64, 11},
		{6, math.MaxUint64, 11},
		{11, 0, 11},
		{11, math.MaxUint64, 11},
		{20, 0, 20},
		{20, math.MaxUint64, 20},
		{64, math.MaxUint64, 64},
	}
	for _, tt := range tests {
		c := newCodec(t, tt.minLength)
		code := c.Encode(tt.n)
		if len(code) != tt.length || !links.ValidCode(code) {
			t.Errorf("minLength %d: Encode(%d) = %q, want a valid code of %d characters", tt.minLength, tt.n, code, tt.length)
		}
		if got, err := c.Decode(code); err != nil || got != tt.n {
			t.Errorf("minLength %d: Decode(%q) = %d, %v; want %d", tt.minLength, code, got, err, tt.n)
		}
	}
}

func TestCodecSmallTierIsPermutation(t *testing.T) {
	c := newCodec(t, 1)
	seen := map[string]bool{}
	for i := range uint64(62 + 62*62) {
		seen[c.Encode(i)] = true
	}
	if len(seen) != 62+62*62 {
		t.Fatalf("the 1- and 2-character tiers give %d distinct codes, want %d", len(seen), 62+62*62)
	}
}

func TestNewCodecRefuses(t *testing.T) {
	for _, tt := range []struct {
		key       []byte
		minLength int
	}{
		{[]byte("short"), 6},
		{nil, 6},
		{[]byte(testKey), 0},
		{[]byte(testKey), 65},
	} {
		if _, err := links.NewCodec(tt.key, tt.minLength); err == nil {
			t.Errorf("NewCodec(%d-byte key, %d) succeeded", len(tt.key), tt.minLength)
		}
	}
}

func TestCodecDecodeRefuses(t *testing.T) {
	c := newCodec(t, 6)
	for _, code := range []string{
		"", "abc", "abcde", "abc-ef", "abc_ef", "abcdé", "zzzzzzzzzzzz", strings.Repeat("z", 11),
	} {
		if n, err := c.Decode(code); !errors.Is(err, links.ErrInvalidCode) {
			t.Errorf("Decode(%q) = %d, %v; want ErrInvalidCode", code, n, err)
		}
	}
}

func FuzzCodec(f *testing.F) {
	f.Add(uint64(0), "000000", 6)
	f.Add(uint64(math.MaxUint64), "zzzzzzzzzzz", 1)
	f.Add(uint64(1234567), "aB3-xY", 3)
	f.Fuzz(func(t *testing.T, n uint64, code string, minLength int) {
		c, err := links.NewCodec([]byte(testKey), 1+abs(minLength)%links.MaxCodeLength)
		if err != nil {
			t.Fatalf("NewCodec: %v", err)
		}
		enc := c.Encode(n)
		if !links.ValidCode(enc) {
			t.Fatalf("Encode(%d) = %q is not a valid code", n, enc)
		}
		if got, err := c.Decode(enc); err != nil || got != n {
			t.Fatalf("Decode(Encode(%d)) = %d, %v", n, got, err)
		}
		if m, err := c.Decode(code); err == nil && c.Encode(m) != code {
			t.Fatalf("Decode(%q) = %d but Encode(%d) = %q", code, m, m, c.Encode(m))
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

func BenchmarkCodecEncode(b *testing.B) {
	c := newCodec(b, 6)
	var n uint64
	for b.Loop() {
		n++
		c.Encode(n)
	}
}

func BenchmarkValidCode(b *testing.B) {
	for b.Loop() {
		links.ValidCode("summer-sale_2026")
	}
}
