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
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
)

func TestDecide(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	base := links.Link{Code: "c", Target: "https://example.com/p", RedirectType: 302}
	tests := []struct {
		name     string
		edit     func(*links.Link)
		now      time.Time
		query    string
		outcome  links.Outcome
		status   int
		location string
	}{
		{"plain redirect", nil, since, "x=1", links.Redirect, 302, "https://example.com/p"},
		{"permanent", func(l *links.Link) { l.RedirectType = 308 }, since, "", links.Redirect, 308, "https://example.com/p"},
		{"suspended", func(l *links.Link) { l.Suspended = true }, since, "", links.NotFound, 404, ""},
		{"before validSince", withWindow(since, until), since.Add(-time.Nanosecond), "", links.NotFound, 404, ""},
		{"at validSince", withWindow(since, until), since, "", links.Redirect, 302, "https://example.com/p"},
		{"just before validUntil", withWindow(since, until), until.Add(-time.Nanosecond), "", links.Redirect, 302, "https://example.com/p"},
		{"at validUntil", withWindow(since, until), until, "", links.Gone, 410, ""},
		{"after validUntil", withWindow(time.Time{}, until), until.Add(time.Hour), "", links.Gone, 410, ""},
		{"suspended wins over expired", func(l *links.Link) { withWindow(since, until)(l); l.Suspended = true }, until, "", links.NotFound, 404, ""},
		{"expired target", withExpired(until, "https://example.com/over"), until, "", links.Redirect, 302, "https://example.com/over"},
		{"expired target keeps type", func(l *links.Link) { withExpired(until, "https://example.com/over")(l); l.RedirectType = 301 }, until, "", links.Redirect, 301, "https://example.com/over"},
		{"expired target forwards query", func(l *links.Link) { withExpired(until, "https://example.com/over#f")(l); l.ForwardQuery = true }, until, "a=1", links.Redirect, 302, "https://example.com/over?a=1#f"},
		{"forward without query", forward("https://example.com/p"), since, "a=1&b=2", links.Redirect, 302, "https://example.com/p?a=1&b=2"},
		{"forward with query", forward("https://example.com/p?x=y"), since, "a=1", links.Redirect, 302, "https://example.com/p?x=y&a=1"},
		{"forward with fragment", forward("https://example.com/p#top"), since, "a=1", links.Redirect, 302, "https://example.com/p?a=1#top"},
		{"forward with query and fragment", forward("https://example.com/p?x=y#top?z"), since, "a=1", links.Redirect, 302, "https://example.com/p?x=y&a=1#top?z"},
		{"forward after empty query", forward("https://example.com/p?"), since, "a=1", links.Redirect, 302, "https://example.com/p?a=1"},
		{"forward after trailing &", forward("https://example.com/p?x=y&"), since, "a=1", links.Redirect, 302, "https://example.com/p?x=y&a=1"},
		{"forward empty query", forward("https://example.com/p#top"), since, "", links.Redirect, 302, "https://example.com/p#top"},
		{"forward escapes unsafe bytes", forward("https://example.com/"), since, "a=\r\n b#c\x7fé", links.Redirect, 302, "https://example.com/?a=%0D%0A%20b%23c%7F%C3%A9"},
		{"tampered javascript", target("javascript:alert(1)"), since, "", links.Invalid, 500, ""},
		{"tampered ftp", target("ftp://example.com/"), since, "", links.Invalid, 500, ""},
		{"tampered CRLF", target("https://example.com/\r\nSet-Cookie: a=b"), since, "", links.Invalid, 500, ""},
		{"tampered non-ASCII", target("https://example.com/é"), since, "", links.Invalid, 500, ""},
		{"tampered empty host", target("https:///evil.example"), since, "", links.Invalid, 500, ""},
		{"tampered backslash host", target("https:\\\\evil.example"), since, "", links.Invalid, 500, ""},
		{"tampered expired target", withExpired(until, "data:text/html,x"), until, "", links.Invalid, 500, ""},
		{"tampered redirect type", func(l *links.Link) { l.RedirectType = 200 }, since, "", links.Invalid, 500, ""},
		{"missing redirect type", func(l *links.Link) { l.RedirectType = 0 }, since, "", links.Invalid, 500, ""},
		{"upper-case scheme still http", target("HTTPS://example.com/"), since, "", links.Redirect, 302, "HTTPS://example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := base
			if tt.edit != nil {
				tt.edit(&l)
			}
			got := l.Decide(tt.now, tt.query)
			want := links.Decision{Outcome: tt.outcome, Status: tt.status, Location: tt.location}
			if got != want {
				t.Errorf("Decide = %+v, want %+v", got, want)
			}
		})
	}
}

func withWindow(since, until time.Time) func(*links.Link) {
	return func(l *links.Link) { l.ValidSince, l.ValidUntil = since, until }
}

func withExpired(until time.Time, expired string) func(*links.Link) {
	return func(l *links.Link) { l.ValidUntil, l.ExpiredTarget = until, expired }
}

func forward(target string) func(*links.Link) {
	return func(l *links.Link) { l.Target, l.ForwardQuery = target, true }
}

func target(target string) func(*links.Link) {
	return func(l *links.Link) { l.Target = target }
}

func TestOutcomeString(t *testing.T) {
	want := map[links.Outcome]string{
		links.NotFound: "not_found", links.Gone: "gone", links.Redirect: "redirect",
		links.Invalid: "invalid", links.Outcome(99): "unknown",
	}
	for o, s := range want {
		if o.String() != s {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, o.String(), s)
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add("https://example.com/p?x#f", "", "a=1", 302, true, int64(0), int64(0), false)
	f.Add("https://example.com/p", "https://example.com/over", "a=1#b", 301, true, int64(-10), int64(-5), false)
	f.Add("javascript:alert(1)", "", "", 302, false, int64(0), int64(0), false)
	f.Add("https://example.com/\r\nX: y", "http://x", "\n", 307, true, int64(5), int64(10), true)
	f.Add("HTTP://a", "", "é", 308, true, int64(0), int64(1), false)
	f.Fuzz(func(t *testing.T, target, expired, query string, code int, fwd bool, since, until int64, suspended bool) {
		now := time.Unix(1_000_000, 0)
		l := links.Link{Target: target, ExpiredTarget: expired, RedirectType: code, ForwardQuery: fwd, Suspended: suspended}
		if since != 0 {
			l.ValidSince = now.Add(time.Duration(since))
		}
		if until != 0 {
			l.ValidUntil = now.Add(time.Duration(until))
		}
		checkDecision(t, l.Decide(now, query))
	})
}

func checkDecision(t *testing.T, d links.Decision) {
	t.Helper()
	if d.Outcome != links.Redirect {
		if d.Location != "" {
			t.Fatalf("%v decision has Location %q", d.Outcome, d.Location)
		}
		return
	}
	lower := strings.ToLower(d.Location)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		t.Fatalf("Location %q is not http(s)", d.Location)
	}
	for i := 0; i < len(d.Location); i++ {
		if c := d.Location[i]; c < 0x20 || c >= 0x7f {
			t.Fatalf("Location %q has byte %#x", d.Location, c)
		}
	}
	if !links.ValidRedirectType(d.Status) {
		t.Fatalf("redirect with status %d", d.Status)
	}
}
