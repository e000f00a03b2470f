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

package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

const (
	// codeAlphabet is base62 in ASCII order; every code made from it passes ValidCode.
	codeAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// MinCodecKeyLength is the shortest secret NewCodec accepts: with less, codes become guessable.
	MinCodecKeyLength = 16
	// feistelRounds: 8 rounds of a keyed round function make a good pseudo-random permutation
	// even on the smallest widths; the cost (a few hundred nanoseconds) is irrelevant to creation.
	feistelRounds = 8
)

// Codec turns sequence values (say, from a PostgreSQL sequence) into short codes that do not
// reveal the sequence: consecutive values give unrelated codes. Because the mapping is a
// bijection, distinct values always give distinct codes and no collision check is needed.
//
// Codes are as short as the value allows. Values are split into tiers by code length: the first
// 62^minLength values get codes of exactly minLength characters, the next 62^(minLength+1) codes
// one character longer, and so on up to the whole uint64 range (at most 11 characters for a
// minLength below 11). Within a tier, a value's offset is permuted by a Feistel network over the
// smallest even bit width that covers the tier, with cycle-walking to stay inside it, and then
// written in base62, left-padded with '0'.
//
// A Codec is immutable and safe for concurrent use.
type Codec struct {
	roundKeys [feistelRounds][sha256.Size]byte
	minLength int
	tiers     []codeTier
}

// codeTier is the range of values whose codes have one length.
type codeTier struct {
	length int    // code length in characters
	base   uint64 // first value of the tier
	last   uint64 // largest offset in the tier (size - 1, so that 2^64 values fit)
	width  uint   // Feistel width in bits: even, with 2^width > last
}

// NewCodec builds a Codec from a secret key of at least MinCodecKeyLength bytes and the shortest
// code length to produce (1 to MaxCodeLength). Changing either changes every code, so both are
// part of the installation's configuration, never of a release.
func NewCodec(key []byte, minLength int) (*Codec, error) {
	if len(key) < MinCodecKeyLength {
		return nil, fmt.Errorf("new codec: key must be at least %d bytes", MinCodecKeyLength)
	}
	if minLength < 1 || minLength > MaxCodeLength {
		return nil, fmt.Errorf("new codec: minimum length must be between 1 and %d", MaxCodeLength)
	}
	c := &Codec{minLength: minLength, tiers: codeTiers(minLength)}
	for i := range c.roundKeys {
		// Independent round keys derived with HMAC, so the secret itself never enters a round.
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("shortlink codec round key"))
		mac.Write([]byte{byte(i)})
		mac.Sum(c.roundKeys[i][:0])
	}
	return c, nil
}

func codeTiers(minLength int) []codeTier {
	var tiers []codeTier
	var base uint64
	for length := minLength; ; length++ {
		last := math.MaxUint64 - base
		if size, ok := pow62(length); ok && size-1 < last {
			last = size - 1
		}
		tiers = append(tiers, codeTier{length: length, base: base, last: last, width: feistelWidth(last)})
		if last == math.MaxUint64-base {
			return tiers
		}
		base += last + 1
	}
}

// pow62 returns 62^n, or false when it does not fit in a uint64.
func pow62(n int) (uint64, bool) {
	p := uint64(1)
	for range n {
		hi, lo := bits.Mul64(p, 62)
		if hi != 0 {
			return 0, false
		}
		p = lo
	}
	return p, true
}

func feistelWidth(last uint64) uint {
	w := uint(bits.Len64(last))
	return max(2, w+w%2)
}

// Encode returns the code for sequence value n. Every uint64 has a code.
func (c *Codec) Encode(n uint64) string {
	t := c.tierOf(n)
	return formatBase62(c.permute(t, n-t.base), t.length)
}

// Decode returns the sequence value whose code is code, or an error wrapping ErrInvalidCode
// when this Codec cannot have produced code.
func (c *Codec) Decode(code string) (uint64, error) {
	i := len(code) - c.minLength
	if i < 0 || i >= len(c.tiers) {
		return 0, fmt.Errorf("decode code: wrong length %d: %w", len(code), ErrInvalidCode)
	}
	t := c.tiers[i]
	v, err := parseBase62(code)
	if err != nil {
		return 0, fmt.Errorf("decode code: %w: %w", err, ErrInvalidCode)
	}
	if v > t.last {
		return 0, fmt.Errorf("decode code: out of range: %w", ErrInvalidCode)
	}
	return t.base + c.unpermute(t, v), nil
}

// tierOf returns the tier holding n. The tiers cover every uint64 and the last one ends at
// math.MaxUint64, so falling out of the loop means the last tier.
func (c *Codec) tierOf(n uint64) codeTier {
	for _, t := range c.tiers[:len(c.tiers)-1] {
		if n-t.base <= t.last {
			return t
		}
	}
	return c.tiers[len(c.tiers)-1]
}

// permute walks the Feistel permutation until it lands inside the tier again; starting inside,
// it always does, which keeps the walk a bijection of the tier (cycle-walking).
func (c *Codec) permute(t codeTier, x uint64) uint64 {
	for {
		if x = c.feistel(t, x); x <= t.last {
			return x
		}
	}
}

func (c *Codec) unpermute(t codeTier, x uint64) uint64 {
	for {
		if x = c.unfeistel(t, x); x <= t.last {
			return x
		}
	}
}

func (c *Codec) feistel(t codeTier, x uint64) uint64 {
	half := t.width / 2
	mask := uint64(1)<<half - 1
	l, r := x>>half, x&mask
	for i := range feistelRounds {
		l, r = r, l^c.round(i, t, r)&mask
	}
	return l<<half | r
}

func (c *Codec) unfeistel(t codeTier, x uint64) uint64 {
	half := t.width / 2
	mask := uint64(1)<<half - 1
	l, r := x>>half, x&mask
	for i := feistelRounds - 1; i >= 0; i-- {
		l, r = r^c.round(i, t, l)&mask, l
	}
	return l<<half | r
}

// round is the keyed round function: SHA-256 over the round key and a fixed-length message
// (tier length, then the half block). With fixed-length input, prefixing the key is a sound PRF
// and costs one compression, a quarter of a full HMAC.
func (c *Codec) round(i int, t codeTier, half uint64) uint64 {
	var msg [sha256.Size + 1 + 8]byte
	copy(msg[:], c.roundKeys[i][:])
	msg[sha256.Size] = byte(t.length) //nolint:gosec // a tier length is at most 64
	binary.BigEndian.PutUint64(msg[sha256.Size+1:], half)
	sum := sha256.Sum256(msg[:])
	return binary.BigEndian.Uint64(sum[:8])
}

func formatBase62(v uint64, length int) string {
	buf := make([]byte, max(length, 11))
	i := len(buf)
	for v > 0 || i > len(buf)-length {
		i--
		buf[i] = codeAlphabet[v%62]
		v /= 62
	}
	return string(buf[i:])
}

func parseBase62(s string) (uint64, error) {
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := base62Digit(s[i])
		if !ok {
			return 0, errors.New("character outside 0-9A-Za-z")
		}
		hi, lo := bits.Mul64(v, 62)
		if hi != 0 || lo+d < lo {
			return 0, errors.New("value overflows")
		}
		v = lo + d
	}
	return v, nil
}

func base62Digit(c byte) (uint64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return uint64(c-'A') + 10, true
	case c >= 'a' && c <= 'z':
		return uint64(c-'a') + 36, true
	}
	return 0, false
}
