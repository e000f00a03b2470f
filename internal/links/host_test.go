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
	"strings"
	"testing"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// The expected forms are what the WHATWG URL standard's host parser gives, as browsers do
// (https://url.spec.whatwg.org/#host-parsing and its web-platform-tests).
func TestNormalizeTargetAddressesAsBrowsers(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://2130706433/", "http://127.0.0.1/"},
		{"http://0177.0.0.1/", "http://127.0.0.1/"},
		{"http://0x7f.1/x", "http://127.0.0.1/x"},
		{"http://0X7F.0x0.0.01/", "http://127.0.0.1/"},
		{"http://127.1/", "http://127.0.0.1/"},
		{"http://127.0.1:8080/", "http://127.0.0.1:8080/"},
		{"http://192.168.257/", "http://192.168.1.1/"},
		{"http://0x/", "http://0.0.0.0/"},
		{"http://4294967295/", "http://255.255.255.255/"},
		{"http://１２７.０.０.１/", "http://127.0.0.1/"}, // full-width digits map first
		{"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"},
		{"http://[0:0:0:0:0:FFFF:7F00:1]/", "http://[::ffff:7f00:1]/"},
		{"http://[2001:db8:0:0:1:0:0:1]/", "http://[2001:db8::1:0:0:1]/"},
		{"http://[2001:db8:0:1:1:1:1:1]/", "http://[2001:db8:0:1:1:1:1:1]/"},
		{"http://[::]/", "http://[::]/"},
		{"http://0x7f.example/", "http://0x7f.example/"}, // the last label is not a number
		{"http://1.2.3.4.example/", "http://1.2.3.4.example/"},
	}
	for _, tt := range tests {
		got, err := links.NormalizeTarget(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeTarget(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestNormalizeTargetRefusesHostsBrowsersRefuse(t *testing.T) {
	for _, raw := range []string{
		"http://1.2.3.08",
		"http://1.2.3.08/x",
		"http://foo.09",
		"https://256.0.0.1/",
		"http://1.2.3.4.5/",
		"http://1.256.1/",
		"http://4294967296/",
		"http://0x100000000/",
		"http://0xffffffffffffffffffff/",
		"http://example.123/",
		"http://a.0x/",
		"http://09/",
		"http://1..2/",
	} {
		_, err := links.NormalizeTarget(raw)
		var fe *links.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, links.ErrInvalidTarget) || fe.Field != "target" {
			t.Errorf("NormalizeTarget(%q) = %v, want a target *FieldError wrapping ErrInvalidTarget", raw, err)
			continue
		}
		if raw != "http://1..2/" && !strings.Contains(fe.Reason, "not a valid IPv4 address") {
			t.Errorf("NormalizeTarget(%q) reason = %q, want it to say the address is not valid", raw, fe.Reason)
		}
	}
}

func TestNormalizeDomainAddresses(t *testing.T) {
	for raw, want := range map[string]string{
		"2130706433":  "127.0.0.1",
		"0x7f.1":      "127.0.0.1",
		"10.0.0.1":    "10.0.0.1",
		"example.com": "example.com",
	} {
		if got, err := links.NormalizeDomain(raw); err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := links.NormalizeDomain("foo.09"); !errors.Is(err, links.ErrInvalidDomain) {
		t.Errorf("NormalizeDomain(foo.09) = %v, want ErrInvalidDomain", err)
	}
}

// One blocklist entry covers every spelling of an address, whichever way it is written in the
// blocklist or in the target.
func TestPolicyBlocksEverySpellingOfAnAddress(t *testing.T) {
	for _, entry := range []string{"127.0.0.1", "2130706433", "0x7f.1"} {
		p, err := links.NewPolicy(nil, []string{entry})
		if err != nil {
			t.Fatalf("NewPolicy(blocked %q): %v", entry, err)
		}
		for _, target := range []string{
			"http://127.0.0.1/",
			"http://2130706433/",
			"http://0177.0.0.1/",
			"http://0x7f.1/",
			"http://127.1/",
			"http://[::ffff:127.0.0.1]/",
			"http://[::ffff:7f00:1]:8080/",
		} {
			if err := p.Check(target); !errors.Is(err, links.ErrBlocked) {
				t.Errorf("blocked %q: Check(%q) = %v, want ErrBlocked", entry, target, err)
			}
		}
		for _, target := range []string{"http://127.0.0.2/", "http://[::7f00:1]/", "http://1.127.0.0.1.example/"} {
			if err := p.Check(target); err != nil {
				t.Errorf("blocked %q: Check(%q) = %v, want nil", entry, target, err)
			}
		}
	}
}
