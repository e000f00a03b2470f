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
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// A label written wholly in one non-Latin script whose every letter looks Latin is a homograph,
// unless the top-level domain is in that script; genuine IDNs pass.
func TestPolicyRefusesWholeScriptConfusables(t *testing.T) {
	var p *links.Policy // the rule needs no configuration
	refused := []string{
		"https://аррӏе.com/",          // Cyrillic "apple"
		"https://www.аррӏе.com/login", // in any label
		"https://сосо.org/",           // Cyrillic "coco"
		"https://ехаmрlе.net/",        // Cyrillic "example"
		"https://οοο.com/",            // Greek omicrons
		"https://аррӏе.de/",           // a Latin country TLD
	}
	for _, raw := range refused {
		for _, target := range []string{raw, punycodeHost(t, raw)} {
			err := p.Check(target)
			if !errors.Is(err, links.ErrInvalidTarget) {
				t.Errorf("Check(%q) = %v, want ErrInvalidTarget", target, err)
			}
		}
	}
	accepted := []string{
		"https://münchen.de/",
		"https://пример.рф/",
		"https://аррӏе.рф/", // the TLD's own script: readers there expect Cyrillic
		"https://οοο.ελ/",
		"https://例子.中国/",
		"https://пример.com/", // "п" and "и" look like no Latin letter
		"https://яндекс.com/",
		"https://παράδειγμα.com/",
		"https://example.com/",
		"https://123.example/",
	}
	for _, target := range accepted {
		if err := p.Check(target); err != nil {
			t.Errorf("Check(%q) = %v, want nil", target, err)
		}
	}
}

func TestWholeScriptConfusableMessage(t *testing.T) {
	var p *links.Policy
	want := `target: host label "аррӏе" is all Cyrillic letters that look Latin (possible homograph)`
	if err := p.Check(punycodeHost(t, "https://аррӏе.com/")); err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %q", err, want)
	}
}

// punycodeHost returns raw with its host in punycode, the form an attacker submits.
func punycodeHost(t *testing.T, raw string) string {
	t.Helper()
	n, err := links.NormalizeTarget(raw)
	if err != nil {
		t.Fatalf("NormalizeTarget(%q): %v", raw, err)
	}
	return n
}
