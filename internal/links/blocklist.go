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
	"bufio"
	"fmt"
	"io"
	"strings"
)

// LoadBlocklist reads a blocklist: one domain per line, '#' starting a comment that runs to the
// end of the line, blank lines ignored. Each domain is normalized with NormalizeDomain; the first
// bad line fails the whole list, with its line number, so a typo never silently unblocks a host.
func LoadBlocklist(r io.Reader) ([]string, error) {
	var domains []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte-order mark left by some editors
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		d, err := NormalizeDomain(text)
		if err != nil {
			return nil, fmt.Errorf("blocklist line %d: %w", line, err)
		}
		domains = append(domains, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read blocklist after line %d: %w", line, err)
	}
	return domains, nil
}
