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

package bots

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

const (
	// MaxEntries bounds the list, and so the memory and the comparisons a request may cost.
	MaxEntries = 400
	// MinEntryLen and MaxEntryLen bound an entry: three bytes index it, and shorter text would
	// match people's User-Agents by chance.
	MinEntryLen, MaxEntryLen = 3, 64
	// MaxScan is how much of a User-Agent is read: every marker of the table's bots is within
	// its first 300 bytes, and a header of a megabyte must not cost a megabyte of scanning.
	MaxScan = 1024
)

//go:embed agents.txt
var agentsFile []byte

// Default is the classifier of the embedded list, built on first use. The list is tested
// (TestEmbeddedListParses), so a failure here is a broken build, not bad input.
var Default = sync.OnceValue(func() *Classifier {
	c, err := Parse(agentsFile)
	if err != nil {
		panic(fmt.Sprintf("bots: embedded agents.txt: %v", err))
	}
	return c
})

// entry is one substring of the list, lower-case, with the class it marks.
type entry struct {
	text  string
	class Class
}

// Classifier classifies visits by a list of User-Agent substrings. It is read-only once built
// and safe for concurrent use.
type Classifier struct {
	// starts has bit hash24(a, b, c) set when some entry starts with the bytes a, b, c
	// (lower-case): 1 KiB, so the check made at every position of a User-Agent stays in the L1
	// cache, and a person's User-Agent passes nearly every position on this check alone.
	starts [1 << hashBits / 64]uint64
	// byStart holds the entries by the low bits of that hash, longest first, so the first
	// that matches at a position is the longest; the bits set by people's User-Agents
	// (AppleWebKit, Chrome) then cost one or two comparisons, not a letter's worth.
	byStart [startBuckets][]entry
	n       int
}

// startBuckets is the number of lists of Classifier.byStart: a power of two.
const startBuckets = 1024

// Len is the number of entries.
func (c *Classifier) Len() int { return c.n }

// Parse reads a list in the format of agents.txt: "[class] who: https://source" lines opening
// groups, one lower-case entry a line, "#" comment lines.
func Parse(data []byte) (*Classifier, error) {
	c := &Classifier{}
	seen := map[string]bool{}
	class, inGroup := Human, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
			continue
		case strings.HasPrefix(text, "["):
			var err error
			if class, err = parseGroup(text); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			inGroup = true
			continue
		case !inGroup:
			return nil, fmt.Errorf("line %d: entry %q before any [class] group line", line, text)
		}
		if err := checkEntry(text, seen); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		c.add(entry{text: text, class: class})
		if c.n > MaxEntries {
			return nil, fmt.Errorf("line %d: more than %d entries", line, MaxEntries)
		}
	}
	return c, sc.Err()
}

// parseGroup reads a group line: its class, and a source that must be there.
func parseGroup(line string) (Class, error) {
	name, rest, ok := strings.Cut(line[1:], "]")
	if !ok {
		return 0, fmt.Errorf("group line %q: no closing ]", line)
	}
	class, ok := parseClass(name)
	if !ok {
		return 0, fmt.Errorf("group line %q: class %q is not human, tool, crawler, headless or preview", line, name)
	}
	if !strings.Contains(rest, "https://") {
		return 0, fmt.Errorf("group line %q: names no https:// source", line)
	}
	return class, nil
}

func checkEntry(text string, seen map[string]bool) error {
	if len(text) < MinEntryLen || len(text) > MaxEntryLen {
		return fmt.Errorf("entry %q: want %d to %d bytes", text, MinEntryLen, MaxEntryLen)
	}
	for i := range len(text) {
		if b := text[i]; b <= ' ' || b > '~' || ('A' <= b && b <= 'Z') {
			return fmt.Errorf("entry %q: want lower-case printable ASCII without spaces", text)
		}
	}
	if seen[text] {
		return fmt.Errorf("entry %q listed twice", text)
	}
	seen[text] = true
	return nil
}

func (c *Classifier) add(e entry) {
	k := hash24(uint32(e.text[0])<<16 | uint32(e.text[1])<<8 | uint32(e.text[2]))
	c.starts[k>>6] |= 1 << (k & 63)
	list := append(c.byStart[k%startBuckets], e)
	slices.SortStableFunc(list, func(a, b entry) int { return len(b.text) - len(a.text) })
	c.byStart[k%startBuckets] = list
	c.n++
}

// Request classifies a request: a prefetch by its headers, everything else by its User-Agent.
// It allocates nothing.
func (c *Classifier) Request(r *http.Request) Class { return c.Classify(r.UserAgent(), r.Header) }

// Classify is Request for a caller that has read the User-Agent already: ua is the request's,
// h its headers.
func (c *Classifier) Classify(ua string, h http.Header) Class {
	if isPrefetch(h["Sec-Purpose"]) || isPrefetch(h["Purpose"]) {
		return Prefetch
	}
	return c.UserAgent(ua)
}

// isPrefetch reports whether a Sec-Purpose or Purpose header says prefetch: Chrome sends
// "prefetch", "prefetch;prerender" or "prefetch;anonymous-client-ip", so the first list item
// decides.
func isPrefetch(values []string) bool {
	if len(values) == 0 {
		return false
	}
	v := strings.TrimLeft(values[0], " \t")
	return len(v) >= len("prefetch") && strings.EqualFold(v[:len("prefetch")], "prefetch")
}

// UserAgent classifies a User-Agent: NoAgent when empty, the most specific class among the
// entries it contains, else Human. Only the first MaxScan bytes are read.
func (c *Classifier) UserAgent(ua string) Class {
	if ua == "" {
		return NoAgent
	}
	if len(ua) > MaxScan {
		ua = ua[:MaxScan]
	}
	best := Human
	if len(ua) < MinEntryLen {
		return best
	}
	// w holds the lower-cased bytes ua[p-2:p+1], one shifted in a step.
	w := uint32(lowerTable[ua[0]])<<8 | uint32(lowerTable[ua[1]])
	for p := 2; p < len(ua); p++ {
		w = (w<<8 | uint32(lowerTable[ua[p]])) & 0xFFFFFF
		k := hash24(w)
		if c.starts[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		e := c.longestAt(ua[p-2:], k)
		switch {
		case e == nil:
		case e.class == Human:
			// A known false positive: nothing inside it matches. Go on after it.
			next := p - 2 + len(e.text)
			if next+MinEntryLen > len(ua) {
				return best
			}
			w = uint32(lowerTable[ua[next]])<<8 | uint32(lowerTable[ua[next+1]])
			p = next + 1
		case e.class > best:
			best = e.class
		}
	}
	return best
}

// longestAt returns the longest entry s starts with, ignoring ASCII case, or nil; k is the hash
// of s's first three bytes.
func (c *Classifier) longestAt(s string, k uint32) *entry {
	list := c.byStart[k%startBuckets]
	for i := range list {
		if hasPrefixFold(s, list[i].text) {
			return &list[i]
		}
	}
	return nil
}

// hasPrefixFold reports whether s starts with prefix (lower-case), ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// hash24 hashes three lower-case bytes, packed as a<<16 | b<<8 | c, to a bit of
// Classifier.starts. The multiplier spreads the 24 bits over the hashBits kept (Fibonacci
// hashing); a collision only costs a comparison.
func hash24(w uint32) uint32 { return w * 0x9E3779B1 >> (32 - hashBits) }

// hashBits sizes Classifier.starts. In the redirector the bitmap shares the L1 cache with the
// whole handler, so it is kept small: 1 KiB (2^13 bits, a few per cent of them set by the
// list's entries; a false hit only costs a comparison). Measured as CPU time for 2,000,000
// requests of BenchmarkServeFromMemoryBrowser on one goroutine, on a busy machine: 1.7–1.8 s
// with 1 KiB, 1.9–2.7 s with 8 KiB, 1.2–1.9 s without classifying.
const hashBits = 13

// lowerTable maps ASCII upper-case letters to lower case and every other byte to itself.
var lowerTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

func lower(b byte) byte { return lowerTable[b] }
