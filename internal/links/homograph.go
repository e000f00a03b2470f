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
	"slices"
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/net/idna"
)

// mixedScriptLabel returns the first label of host (in punycode or Unicode) that mixes writing
// systems, such as "pаypal" with a Cyrillic 'а', or "" when there is none. Punycode labels are
// decoded first, since that is the form an attacker submits.
//
// The rule is the "highly restrictive" level of Unicode TS #39 §5.2: a label may use one script,
// or Latin together with the scripts that Japanese (Han, Hiragana, Katakana), Chinese (Han,
// Bopomofo) or Korean (Han, Hangul) writing mixes with it. Common and inherited characters
// (digits, '-', combining marks) go with any script. Whole-script confusables (a label entirely
// in Cyrillic that reads like Latin) pass here: wholeScriptConfusable refuses them.
func mixedScriptLabel(host string) string {
	unicodeHost, err := idna.Punycode.ToUnicode(host)
	if err != nil {
		return host
	}
	for label := range strings.SplitSeq(unicodeHost, ".") {
		if !allowedScripts(labelScripts(label)) {
			return label
		}
	}
	return ""
}

// labelScripts returns the scripts label uses, without Common and Inherited.
func labelScripts(label string) []string {
	var scripts []string
	for _, r := range label {
		name := scriptOf(r)
		if name != "" && !slices.Contains(scripts, name) {
			scripts = append(scripts, name)
		}
	}
	return scripts
}

// Script names as unicode.Scripts spells them.
const (
	scriptLatin = "Latin"
	scriptHan   = "Han"
)

// scriptOf returns the name of r's script as unicode.Scripts spells it, or "" for characters
// shared by all scripts.
func scriptOf(r rune) string {
	if r < 0x80 {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return scriptLatin
		}
		return ""
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			if name == "Common" || name == "Inherited" {
				return ""
			}
			return name
		}
	}
	return ""
}

func allowedScripts(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range [...][]string{
		{scriptLatin, scriptHan, "Hiragana", "Katakana"},
		{scriptLatin, scriptHan, "Bopomofo"},
		{scriptLatin, scriptHan, "Hangul"},
	} {
		if subset(scripts, set) {
			return true
		}
	}
	return false
}

func subset(scripts, set []string) bool {
	for _, s := range scripts {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}

// wholeScriptConfusable returns the first label of host (punycode or Unicode) written in one
// script other than Latin whose every letter is the confusable of a Latin letter or digit in
// Unicode TS #39's confusables data, such as an all-Cyrillic "аррӏе" that reads "apple", and
// that script's name. A label in the script of the top-level domain passes (".рф", ".ελ"): there
// readers expect that script. Genuine words rarely consist only of look-alikes ("пример" has
// "п" and "и"), so they pass too.
func wholeScriptConfusable(host string) (label, script string) {
	if !strings.Contains(host, "xn--") && isASCIIString(host) {
		return "", "" // no label can be in another script; the common case costs a scan
	}
	unicodeHost, err := idna.Punycode.ToUnicode(host)
	if err != nil {
		return "", ""
	}
	labels := strings.Split(unicodeHost, ".")
	tldScripts := labelScripts(labels[len(labels)-1])
	for _, l := range labels {
		scripts := labelScripts(l)
		if len(scripts) != 1 || scripts[0] == scriptLatin || slices.Equal(tldScripts, scripts) {
			continue
		}
		if allLookLatin(l) {
			return l, scripts[0]
		}
	}
	return "", ""
}

// allLookLatin reports whether every letter of label that belongs to a script has a TS #39
// prototype made of the characters of an ASCII host label (a-z, 0-9): "р" is "p", but "п"
// ("π") and "и" ("ᴎ") are not. Characters shared by all scripts (digits, '-') look alike
// everywhere and are skipped.
func allLookLatin(label string) bool {
	for _, r := range label {
		if scriptOf(r) == "" {
			continue
		}
		proto := confusables.Skeleton(string(r))
		if proto == "" || proto == string(r) {
			return false
		}
		for i := 0; i < len(proto); i++ {
			if c := proto[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
