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
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestNormalizeTarget(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", links.MaxTargetLength-len("https://example.com/"))
	tests := []struct {
		raw, want string
	}{
		{"https://example.com", "https://example.com"},
		{"HTTPS://Example.COM/Path?Q=V#Frag", "https://example.com/Path?Q=V#Frag"},
		{"http://example.com:80/", "http://example.com:80/"},
		{"https://example.com:443/x", "https://example.com:443/x"},
		{"https://example.com:/x", "https://example.com/x"},
		{"https://münchen.de/straße", "https://xn--mnchen-3ya.de/stra%C3%9Fe"},
		{"https://XN--MNCHEN-3YA.DE/", "https://xn--mnchen-3ya.de/"},
		{"https://ＥＸＡＭＰＬＥ.com/", "https://example.com/"},
		{"https://例え.jp/?q=日本#é", "https://xn--r8jz45g.jp/?q=%E6%97%A5%E6%9C%AC#%C3%A9"},
		{"https://example.com/a%20b?c=%zz", "https://example.com/a%20b?c=%zz"},
		{"https://example.com?x", "https://example.com?x"},
		{"https://example.com#f", "https://example.com#f"},
		{"http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x"},
		{"http://[2001:DB8::1]/x", "http://[2001:db8::1]/x"},
		{"https://example.com?@evil.example", "https://example.com?@evil.example"},
		{long, long},
	}
	for _, tt := range tests {
		got, err := links.NormalizeTarget(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeTarget(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestNormalizeTargetRefuses(t *testing.T) {
	tests := []struct {
		name, raw, reason string
	}{
		{"empty", "", "must not be empty"},
		{"javascript", "javascript:alert(1)", "must use http or https"},
		{"data", "data:text/html,<script>", "must use http or https"},
		{"ftp", "ftp://example.com/file", "must use http or https"},
		{"relative", "/docs/page", "must be an absolute URL"},
		{"protocol-relative", "//example.com/", "must be an absolute URL"},
		{"no host", "http://", "must have a host"},
		{"opaque", "http:example.com", "must have a host"},
		{"three slashes", "http:///example.com", "must have a host"},
		{"2049 bytes", "https://example.com/" + strings.Repeat("a", 2049-len("https://example.com/")), "must be at most 2048 bytes"},
		{"space", "https://example.com/a b", "must not contain whitespace or control characters"},
		{"CR", "https://example.com/\r", "must not contain whitespace or control characters"},
		{"LF", "https://example.com/\nSet-Cookie:a", "must not contain whitespace or control characters"},
		{"tab", "https://example.com/\t", "must not contain whitespace or control characters"},
		{"NUL", "https://example.com/\x00", "must not contain whitespace or control characters"},
		{"no-break space", "https://example.com/\u00a0", "must not contain whitespace or control characters"},
		{"zero-width space", "https://exa\u200bmple.com/", "must not contain whitespace or control characters"},
		{"bidi override", "https://example.com/\u202egpj.exe", "must not contain whitespace or control characters"},
		{"invalid UTF-8", "https://example.com/\xff", "must be valid UTF-8"},
		{"user-info", "https://paypal.com:secure@evil.example/", "must not contain user-info (user:password@)"},
		{"user only", "https://paypal.com@evil.example/", "must not contain user-info (user:password@)"},
		{"empty user-info", "https://@evil.example/", "must not contain user-info (user:password@)"},
		{"bad escape", "https://example.com/%zz", "must be a valid URL"},
		{"underscore host", "https://a_b.example.com/", ""},
		{"trailing dot", "https://example.com./", "host must not end with a dot"},
		{"empty label", "https://a..example.com/", ""},
		{"hyphen label", "https://-a.example.com/", ""},
		{"long label", "https://" + strings.Repeat("a", 64) + ".com/", ""},
		{"bad punycode", "https://xn--zz.com/", ""},
		{"port zero", "https://example.com:0/", "port must be between 1 and 65535"},
		{"port too big", "https://example.com:65536/", "port must be between 1 and 65535"},
		{"IPv6 zone", "https://[fe80::1%25eth0]/", "must have a valid IPv6 address between brackets"},
		{"IPv4 in brackets", "https://[192.0.2.1]/", "must be a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := links.NormalizeTarget(tt.raw)
			var fe *links.FieldError
			if !errors.As(err, &fe) || fe.Field != "target" || !errors.Is(err, links.ErrInvalidTarget) {
				t.Fatalf("NormalizeTarget(%q) = %q, %v; want a target FieldError", tt.raw, got, err)
			}
			if tt.reason != "" && fe.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", fe.Reason, tt.reason)
			}
		})
	}
}

func FuzzNormalizeTarget(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?b#c", "HTTP://Example.COM:80", "https://münchen.de/ä?ö#ü",
		"javascript:alert(1)", "http://", "https://u:p@x.com", "http://[::1]:8080/", "http://a.com:/",
		"https://x.com/\r\n", "https://例え.jp", "https://xn--mnchen-3ya.de", "http://a.com?#%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := links.NormalizeTarget(raw)
		if err != nil {
			if !errors.Is(err, links.ErrInvalidTarget) {
				t.Fatalf("NormalizeTarget(%q) error %v is not ErrInvalidTarget", raw, err)
			}
			return
		}
		checkNormalizedTarget(t, got)
		if again, err := links.NormalizeTarget(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", raw, got, again, err)
		}
		d := links.Link{Target: got, RedirectType: 302, ForwardQuery: true}.Decide(time.Now(), "a=1")
		if d.Outcome != links.Redirect {
			t.Fatalf("normalized target %q does not resolve: %+v", got, d)
		}
		checkDecision(t, d)
	})
}

func checkNormalizedTarget(t *testing.T, s string) {
	t.Helper()
	if len(s) > links.MaxTargetLength {
		t.Fatalf("normalized target is %d bytes", len(s))
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		t.Fatalf("normalized target %q is not http(s)", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			t.Fatalf("normalized target %q has byte %#x", s, s[i])
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		t.Fatalf("normalized target %q parses as %+v, %v", s, u, err)
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"example.com", "example.com"},
		{"Go.Example.COM", "go.example.com"},
		{"münchen.de", "xn--mnchen-3ya.de"},
		{"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
		{"localhost", "localhost"},
		{"a-b.c0", "a-b.c0"},
		{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com"},
	}
	for _, tt := range tests {
		got, err := links.NormalizeDomain(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestNormalizeDomainRefuses(t *testing.T) {
	label := strings.Repeat("a", 63)
	tooLong := strings.Join([]string{label, label, label, label}, ".") // 255 characters
	for _, raw := range []string{
		"", "example.com:8080", "example.com.", ".example.com", "a..b", "-a.com", "a-.com",
		strings.Repeat("a", 64) + ".com", tooLong, "a_b.com", "a b.com", "https://example.com",
		"example.com/x", "[::1]", "xn--zz.com", "user@example.com", strings.Repeat("é", 1025),
	} {
		got, err := links.NormalizeDomain(raw)
		var fe *links.FieldError
		if !errors.As(err, &fe) || fe.Field != "domain" || !errors.Is(err, links.ErrInvalidDomain) {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want a domain FieldError", raw, got, err)
		}
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"example.com", "MÜNCHEN.de", "xn--mnchen-3ya.de", "a..b", "a:1", "例え.jp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := links.NormalizeDomain(raw)
		if err != nil {
			if !errors.Is(err, links.ErrInvalidDomain) {
				t.Fatalf("NormalizeDomain(%q) error %v is not ErrInvalidDomain", raw, err)
			}
			return
		}
		if len(got) > links.MaxDomainLength || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" {
			t.Fatalf("NormalizeDomain(%q) = %q breaks the rules", raw, got)
		}
		if again, err := links.NormalizeDomain(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", raw, got, again, err)
		}
	})
}
