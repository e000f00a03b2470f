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
	"slices"
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestSplitDomains(t *testing.T) {
	for in, want := range map[string][]string{
		"":                       nil,
		" , ":                    nil,
		"a.example":              {"a.example"},
		" a.example ,b.example,": {"a.example", "b.example"},
	} {
		if got := links.SplitDomains(in); !slices.Equal(got, want) {
			t.Errorf("SplitDomains(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSite(t *testing.T) {
	s, err := links.NewSite("Sho.RT", []string{"go.example", "bücher.example"}, "https://sho.rt/s/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Served(), []string{"sho.rt", "go.example", "xn--bcher-kva.example"}; !slices.Equal(got, want) {
		t.Errorf("Served() = %q, want %q", got, want)
	}
	for _, tc := range []struct{ domain, stored, url string }{
		{"sho.rt", "", "https://sho.rt/s/c"},
		{"", "", "https://sho.rt/s/c"},
		{"go.example", "go.example", "https://go.example/c"},
	} {
		stored := s.StoredDomain(tc.domain)
		if stored != tc.stored {
			t.Errorf("StoredDomain(%q) = %q, want %q", tc.domain, stored, tc.stored)
		}
		if got := s.ShortURL(stored, "c"); got != tc.url {
			t.Errorf("ShortURL(%q, c) = %q, want %q", stored, got, tc.url)
		}
	}
	def, err := links.NewSite("sho.rt", nil, "")
	if err != nil || def.BaseURL() != "https://sho.rt" {
		t.Errorf("NewSite without a base URL: %q, %v; want https://sho.rt", def.BaseURL(), err)
	}
	for _, bad := range [][]string{{"bad domain"}, {"ok.example", "-x-"}} {
		if _, err := links.NewSite("sho.rt", bad, ""); err == nil || !strings.Contains(err.Error(), "served domain") {
			t.Errorf("NewSite(%q) = %v, want an error naming the served domain", bad, err)
		}
	}
	if _, err := links.NewSite("", nil, ""); err == nil || !strings.Contains(err.Error(), "default domain") {
		t.Errorf("NewSite with no default domain = %v, want an error naming it", err)
	}
}

func TestMustSitePanicsOnABadDomain(t *testing.T) {
	if got := links.MustSite("sho.rt", "go.example").Served(); !slices.Equal(got, []string{"sho.rt", "go.example"}) {
		t.Errorf("MustSite served %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustSite accepted a bad domain")
		}
	}()
	links.MustSite("bad domain")
}
