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
	"slices"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestLoadBlocklist(t *testing.T) {
	input := "\ufeff# phishing hosts\n" +
		"evil.example\n" +
		"\n" +
		"   Bad.Example.ORG   # reported 2026-01-02\n" +
		"\t\n" +
		"münchen.de\r\n" +
		"# the end"
	got, err := links.LoadBlocklist(strings.NewReader(input))
	if err != nil {
		t.Fatalf("LoadBlocklist: %v", err)
	}
	want := []string{"evil.example", "bad.example.org", "xn--mnchen-3ya.de"}
	if !slices.Equal(got, want) {
		t.Errorf("LoadBlocklist = %q, want %q", got, want)
	}
}

func TestLoadBlocklistEmpty(t *testing.T) {
	got, err := links.LoadBlocklist(strings.NewReader("# nothing yet\n\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("LoadBlocklist = %q, %v; want nothing", got, err)
	}
}

func TestLoadBlocklistRefuses(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"bad name", "ok.example\n# fine\nbad_name.example\n", "blocklist line 3: domain: "},
		{"port", "ok.example:443\n", "blocklist line 1: domain: must not include a port"},
		{"two names", "a.example b.example\n", "blocklist line 1: domain: "},
		{"URL", "\nhttps://evil.example/\n", "blocklist line 2: domain: "},
		{"line too long", "ok.example\n" + strings.Repeat("a", 70000) + "\n", "read blocklist after line 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := links.LoadBlocklist(strings.NewReader(tt.input))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("LoadBlocklist error = %v, want prefix %q", err, tt.want)
			}
			if tt.name != "line too long" && !errors.Is(err, links.ErrInvalidDomain) {
				t.Errorf("error %v does not wrap ErrInvalidDomain", err)
			}
		})
	}
}
