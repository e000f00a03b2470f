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
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func testPolicy(t testing.TB) *links.Policy {
	t.Helper()
	p, err := links.NewPolicy(
		[]string{"sl.example", "Go.Example.COM"},
		[]string{"evil.example", "Bad.Example.ORG", "münchen.de"},
	)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestPolicyCheck(t *testing.T) {
	p := testPolicy(t)
	tests := []struct {
		target string
		want   error // nil, links.ErrInvalidTarget or links.ErrBlocked
	}{
		{"https://example.com/", nil},
		{"https://evil.example/", links.ErrBlocked},
		{"https://EVIL.example/x", links.ErrBlocked},
		{"https://a.b.evil.example/", links.ErrBlocked},
		{"https://evil.example:8443/", links.ErrBlocked},
		{"https://notevil.example/", nil},
		{"https://evil.example.com/", nil},
		{"https://x.bad.example.org/", links.ErrBlocked},
		{"https://MÜNCHEN.de/", links.ErrBlocked},
		{"https://xn--mnchen-3ya.de/", links.ErrBlocked},
		{"https://sl.example/abc", links.ErrBlocked},
		{"http://SL.example:80/abc", links.ErrBlocked},
		{"https://go.example.com/x", links.ErrBlocked},
		{"https://sub.sl.example/", nil},
		{"javascript:alert(1)", links.ErrInvalidTarget},
		{"https://user:pass@example.com/", links.ErrInvalidTarget},
		{"/relative", links.ErrInvalidTarget},
		{"https://p\u0430ypal.com/", links.ErrInvalidTarget},   // Cyrillic а in a Latin label
		{"https://xn--pypal-4ve.com/", links.ErrInvalidTarget}, // the same, as punycode
		{"https://\u0430pple.com/", links.ErrInvalidTarget},    // Cyrillic а + Latin
		{"https://\u03bfogle.com/", links.ErrInvalidTarget},    // Greek ο + Latin
		{"https://пример.рф/", nil},                            // all Cyrillic
		{"https://пример2-1.рф/", nil},                         // digits and '-' are neutral
		{"https://ελληνικά.gr/", nil},                          // all Greek
		{"https://例え.jp/", nil},                                // Han + Hiragana
		{"https://ひらがなカタカナ漢字.jp/", nil},                        // Japanese mixes three scripts
		{"https://中文.cn/", nil},                                // Han
		{"https://한국어.kr/", nil},                               // Hangul
		{"https://abc漢字.jp/", nil},                             // Latin + Han: UTS #39 highly restrictive
		{"https://пример漢字.com/", links.ErrInvalidTarget},      // Cyrillic + Han
		{"https://한국カタカナ.com/", links.ErrInvalidTarget},        // Hangul + Katakana
		{"https://münchen.com/", nil},                          // Latin with diacritics
		{"https://[2001:db8::1]/", nil},
	}
	for _, tt := range tests {
		err := p.Check(tt.target)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Check(%q) = %v, want %v", tt.target, err, tt.want)
		}
		if err != nil && errors.Is(err, links.ErrBlocked) == errors.Is(err, links.ErrInvalidTarget) {
			t.Errorf("Check(%q) = %v: must be exactly one of blocked and invalid", tt.target, err)
		}
	}
}

func TestPolicyCheckMessages(t *testing.T) {
	p := testPolicy(t)
	for target, want := range map[string]string{
		"https://a.evil.example/":    "target: host a.evil.example is blocked (evil.example)",
		"https://sl.example/":        "target: host sl.example is served by this shortener (redirect loop)",
		"https://xn--pypal-4ve.com/": `target: host label "pаypal" mixes scripts (possible homograph)`,
	} {
		if err := p.Check(target); err == nil || err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", target, err, want)
		}
	}
}

func TestNilPolicy(t *testing.T) {
	var p *links.Policy
	if err := p.Check("https://evil.example/"); err != nil {
		t.Errorf("nil Policy Check = %v, want nil", err)
	}
	if err := p.Check("https://p\u0430ypal.com/"); !errors.Is(err, links.ErrInvalidTarget) {
		t.Errorf("nil Policy Check of a homograph = %v, want ErrInvalidTarget", err)
	}
	if p.Serves("sl.example") {
		t.Error("nil Policy serves a domain")
	}
}

func TestNewPolicyRefusesBadDomains(t *testing.T) {
	_, err := links.NewPolicy([]string{"ok.example", "bad_domain"}, nil)
	if !errors.Is(err, links.ErrInvalidDomain) || !strings.Contains(err.Error(), `served domain 2 ("bad_domain")`) {
		t.Errorf("NewPolicy = %v, want an error naming served domain 2", err)
	}
	_, err = links.NewPolicy(nil, []string{"x.example:80"})
	if !errors.Is(err, links.ErrInvalidDomain) || !strings.Contains(err.Error(), "blocked domain 1") {
		t.Errorf("NewPolicy = %v, want an error naming blocked domain 1", err)
	}
}

func TestPolicyDomains(t *testing.T) {
	p := testPolicy(t)
	if !p.Serves("go.example.com") || p.Serves("Go.Example.COM") || p.Serves("example.com") {
		t.Error("Serves must match normalized served domains exactly")
	}
	for domain, want := range map[string]error{
		"":               nil,
		"sl.example":     nil,
		"GO.example.com": nil,
		"other.example":  links.ErrInvalidDomain,
		"bad_domain":     links.ErrInvalidDomain,
	} {
		if err := p.CheckDomain(domain); want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("CheckDomain(%q) = %v, want %v", domain, err, want)
		}
	}
}

// TestPolicyConcurrentUse is meant for `go test -race`: a Policy is shared by every request.
func TestPolicyConcurrentUse(t *testing.T) {
	p := testPolicy(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if !errors.Is(p.Check("https://a.evil.example/"), links.ErrBlocked) || p.Check("https://example.com/") != nil {
					t.Error("concurrent Check gave a wrong answer")
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{
		"https://a.evil.example/", "https://sl.example/", "https://xn--pypal-4ve.com/",
		"https://例え.jp/", "https://[::1]/", "https://пример漢字.com/", "ftp://x",
	} {
		f.Add(s)
	}
	p := testPolicy(f)
	f.Fuzz(func(t *testing.T, target string) {
		err := p.Check(target)
		if n, nerr := links.NormalizeTarget(target); nerr == nil {
			if again := p.CheckNormalized(n); !reflect.DeepEqual(again, err) {
				t.Fatalf("CheckNormalized(%q) = %v, but Check(%q) = %v", n, again, target, err)
			}
		}
		if err == nil {
			if _, nerr := links.NormalizeTarget(target); nerr != nil {
				t.Fatalf("Check(%q) passed a target NormalizeTarget refuses: %v", target, nerr)
			}
			return
		}
		if errors.Is(err, links.ErrBlocked) == errors.Is(err, links.ErrInvalidTarget) {
			t.Fatalf("Check(%q) = %v: must be exactly one of blocked and invalid", target, err)
		}
	})
}
