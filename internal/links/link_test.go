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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestValidCode(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"a", true},
		{"Z9", true},
		{"0abc", true},
		{"summer-sale_2026", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"_healthz", false},
		{"-abc", false},
		{"a/b", false},
		{"a.b", false},
		{"a b", false},
		{"ü", false},
		{"abc\n", false},
	}
	for _, tt := range tests {
		if got := links.ValidCode(tt.code); got != tt.want {
			t.Errorf("ValidCode(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func FuzzValidCode(f *testing.F) {
	for _, s := range []string{"a", "", "_a", "a_", "a-b", strings.Repeat("x", 64), strings.Repeat("x", 65), "é", "a\x00"} {
		f.Add(s)
	}
	re := regexp.MustCompile(links.CodePattern)
	f.Fuzz(func(t *testing.T, s string) {
		// The regexp's $ matches only at the very end without the m flag, so they must agree.
		if got, want := links.ValidCode(s), re.MatchString(s); got != want {
			t.Fatalf("ValidCode(%q) = %v, regexp says %v", s, got, want)
		}
	})
}

func TestValidRedirectType(t *testing.T) {
	for code, want := range map[int]bool{301: true, 302: true, 307: true, 308: true, 0: false, 200: false, 303: false, 404: false} {
		if got := links.ValidRedirectType(code); got != want {
			t.Errorf("ValidRedirectType(%d) = %v, want %v", code, got, want)
		}
	}
}

func validLink() links.Link {
	return links.Link{
		Domain:       "Go.Example.COM",
		Code:         "docs",
		Target:       "HTTPS://Example.com/a?b=c#d",
		RedirectType: 0,
		Source:       links.SourceK8s,
		Owner:        "team-a/docs",
		Tags:         []string{"docs"},
	}
}

func TestNormalized(t *testing.T) {
	got, err := validLink().Normalized()
	if err != nil {
		t.Fatalf("Normalized: %v", err)
	}
	if got.Domain != "go.example.com" || got.Target != "https://example.com/a?b=c#d" {
		t.Errorf("Normalized = %q %q, want canonical domain and target", got.Domain, got.Target)
	}
	if got.RedirectType != links.DefaultRedirectType {
		t.Errorf("RedirectType = %d, want default %d", got.RedirectType, links.DefaultRedirectType)
	}
}

func TestNormalizedRefuses(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		edit      func(*links.Link)
		wantField string
		wantErr   error
	}{
		{"bad code", func(l *links.Link) { l.Code = "_x" }, "code", links.ErrInvalidCode},
		{"bad domain", func(l *links.Link) { l.Domain = "a_b.com" }, "domain", links.ErrInvalidDomain},
		{"bad target", func(l *links.Link) { l.Target = "ftp://x.com" }, "target", links.ErrInvalidTarget},
		{"bad expired target", func(l *links.Link) { l.ExpiredTarget = "javascript:alert(1)" }, "expiredTarget", links.ErrInvalidTarget},
		{"bad redirect type", func(l *links.Link) { l.RedirectType = 303 }, "redirectType", links.ErrInvalidLink},
		{"until before since", func(l *links.Link) { l.ValidSince, l.ValidUntil = now, now }, "validUntil", links.ErrInvalidLink},
		{"too many tags", func(l *links.Link) { l.Tags = make([]string, 17) }, "tags", links.ErrInvalidLink},
		{"empty tag", func(l *links.Link) { l.Tags = []string{""} }, "tags", links.ErrInvalidLink},
		{"long tag", func(l *links.Link) { l.Tags = []string{strings.Repeat("é", 64)} }, "tags", links.ErrInvalidLink},
		{"control in tag", func(l *links.Link) { l.Tags = []string{"a\nb"} }, "tags", links.ErrInvalidLink},
		{"bad source", func(l *links.Link) { l.Source = "" }, "source", links.ErrInvalidLink},
		{"k8s without owner", func(l *links.Link) { l.Owner = "docs" }, "owner", links.ErrInvalidLink},
		{"forwardPath on the code api", func(l *links.Link) { l.Code, l.ForwardPath = "api", true }, "code", links.ErrInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := validLink()
			tt.edit(&l)
			_, err := l.Normalized()
			var fe *links.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Normalized error = %v, want field %q wrapping %v", err, tt.wantField, tt.wantErr)
			}
		})
	}
}

// The code api stays usable without forwardPath: /api alone is not the create API, and links
// made before forwardPath existed keep answering.
func TestNormalizedAllowsAPIWithoutForwardPath(t *testing.T) {
	l := validLink()
	l.Code = "api"
	if _, err := l.Normalized(); err != nil {
		t.Fatalf("Normalized(code api) = %v, want no error", err)
	}
}

func TestNormalizedKeepsValidTags(t *testing.T) {
	l := validLink()
	l.Tags = []string{strings.Repeat("é", 63)}
	got, err := l.Normalized()
	if err != nil {
		t.Fatalf("Normalized: %v", err)
	}
	got.Tags[0] = "changed"
	if l.Tags[0] == "changed" {
		t.Error("Normalized shares its Tags with the original")
	}
}

func TestFieldError(t *testing.T) {
	_, err := links.NormalizeTarget("ftp://example.com")
	if got, want := err.Error(), "target: must use http or https"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	renamed := links.WithField(err, "expiredTarget")
	if got, want := renamed.Error(), "expiredTarget: must use http or https"; got != want {
		t.Errorf("renamed Error() = %q, want %q", got, want)
	}
	if !errors.Is(renamed, links.ErrInvalidTarget) {
		t.Error("renamed error lost its class")
	}
	if err.Error() != "target: must use http or https" {
		t.Error("WithField changed the original error")
	}
	plain := errors.New("other")
	if links.WithField(plain, "x") != plain {
		t.Error("WithField changed an error that is not a FieldError")
	}
}
