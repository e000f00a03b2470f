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

package bots

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// userAgents are real User-Agent strings, as the clients named send them, and the class each
// must get. Humans on desktop, mobile and tablet browsers and in the apps whose in-app browsers
// carry a bot family's name (Facebook, LinkedIn, X, Instagram) must stay human.
var userAgents = []struct {
	name, ua string
	want     Class
}{
	// People: desktop.
	{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Human},
	{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", Human},
	{"Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Human},
	{"Firefox on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", Human},
	{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", Human},
	{"Opera on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", Human},
	{"Yandex Browser", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 YaBrowser/24.7.0.0 Safari/537.36", Human},
	{"Chrome on ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Human},
	// People: mobile.
	{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", Human},
	{"Chrome on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", Human},
	{"Chrome on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Human},
	{"Samsung Internet", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", Human},
	{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", Human},
	{"Chrome on a CUBOT phone", "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 Mobile Safari/537.36", Human},
	{"Google app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/340.0.685355424 Mobile/15E148 Safari/604.1", Human},
	{"Facebook app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/444.0.0.41.110;FBBV/567023283;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5;FBRV/568693015]", Human},
	{"Instagram app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 305.0.0.20.108 (iPhone14,2; iOS 17_0; en_US; en; scale=3.00; 1170x2532; 529083166)", Human},
	{"LinkedIn app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.30.1234", Human},
	{"X app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.48", Human},
	// People: tablets.
	{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", Human},
	{"Chrome on an Android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Human},
	{"Silk on a Kindle Fire", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.1 like Chrome/131.0.6778.85 Safari/537.36", Human},

	// Link previews.
	{"Slack", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", Preview},
	{"Slack image proxy", "Slack-ImgProxy (+https://api.slack.com/robots)", Preview},
	{"Discord", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", Preview},
	{"X", "Twitterbot/1.0", Preview},
	{"Facebook", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", Preview},
	{"Meta fetcher", "meta-externalfetcher/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", Preview},
	{"LinkedIn", "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", Preview},
	{"WhatsApp on Android", "WhatsApp/2.23.20.0 A", Preview},
	{"WhatsApp on iOS", "WhatsApp/2.24.6.77 i", Preview},
	{"Telegram", "TelegramBot (like TwitterBot)", Preview},
	{"iMessage", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0", Preview},
	{"Mastodon", "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)", Preview},
	{"Teams and Skype", "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com", Preview},

	// Crawlers.
	{"Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Crawler},
	{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Crawler},
	{"Google Inspection Tool", "Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)", Crawler},
	{"AdsBot", "AdsBot-Google (+http://www.google.com/adsbot.html)", Crawler},
	{"Bing", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", Crawler},
	{"Applebot", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)", Crawler},
	{"DuckDuckBot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", Crawler},
	{"YandexBot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", Crawler},
	{"Baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", Crawler},
	{"Yahoo Slurp", "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", Crawler},
	{"GPTBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", Crawler},
	{"ChatGPT-User", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot", Crawler},
	{"ClaudeBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", Crawler},
	{"PerplexityBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)", Crawler},
	{"CCBot", "CCBot/2.0 (https://commoncrawl.org/faq/)", Crawler},
	{"Amazonbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36", Crawler},
	{"Meta crawler", "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", Crawler},
	{"AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", Crawler},
	{"SemrushBot", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", Crawler},
	{"Bytespider", "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", Crawler},
	{"UptimeRobot", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", Crawler},
	{"Pingdom", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", Crawler},

	// Headless browsers.
	{"HeadlessChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36", Headless},
	{"PageSpeed Insights", "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", Headless},
	{"PhantomJS", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", Headless},

	// Scripts.
	{"curl", "curl/8.5.0", Tool},
	{"Wget", "Wget/1.21.4", Tool},
	{"Go", "Go-http-client/1.1", Tool},
	{"Go over HTTP/2", "Go-http-client/2.0", Tool},
	{"python-requests", "python-requests/2.31.0", Tool},
	{"Python urllib", "Python-urllib/3.11", Tool},
	{"Java", "Java/17.0.9", Tool},
	{"Java HttpClient", "Java-http-client/21.0.1", Tool},
	{"Apache HttpClient", "Apache-HttpClient/4.5.14 (Java/17.0.9)", Tool},
	{"OkHttp", "okhttp/4.12.0", Tool},
	{"axios", "axios/1.6.2", Tool},
	{"node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", Crawler}, // its contact URL outranks the tool
	{"Postman", "PostmanRuntime/7.36.0", Tool},
	{"HTTPie", "HTTPie/3.2.2", Tool},

	{"no User-Agent", "", NoAgent},
}

func TestUserAgentsClassifyRight(t *testing.T) {
	t.Parallel()
	c := Default()
	for _, tt := range userAgents {
		if got := c.UserAgent(tt.ua); got != tt.want {
			t.Errorf("%s: %q classified %s, want %s", tt.name, tt.ua, got, tt.want)
		}
	}
}

// The prefetch headers make a bot of any User-Agent; other purposes, and other headers, do not.
func TestPrefetchHeadersMakeABot(t *testing.T) {
	t.Parallel()
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, tt := range []struct {
		header, value string
		want          Class
	}{
		{"Sec-Purpose", "prefetch", Prefetch},
		{"Sec-Purpose", "prefetch;prerender", Prefetch},
		{"Sec-Purpose", "prefetch;anonymous-client-ip", Prefetch},
		{"Purpose", "prefetch", Prefetch},
		{"purpose", "Prefetch", Prefetch}, // header names and values in any case
		{"Sec-Purpose", "prerender", Human},
		{"Sec-Fetch-Mode", "navigate", Human},
	} {
		r := httptest.NewRequest(http.MethodGet, "/code", nil)
		r.Header.Set("User-Agent", chrome)
		r.Header.Set(tt.header, tt.value)
		if got := Default().Request(r); got != tt.want {
			t.Errorf("%s: %s classified %s, want %s", tt.header, tt.value, got, tt.want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/code", nil)
	if got := Default().Request(r); got != NoAgent || !got.Bot() {
		t.Errorf("a request without User-Agent classified %s, want no-agent, a bot", got)
	}
}

// A marker past the first MaxScan bytes is not read: the scan is bounded whatever the header.
func TestScanIsBounded(t *testing.T) {
	t.Parallel()
	padding := strings.Repeat("a", MaxScan)
	if got := Default().UserAgent(padding + " Googlebot/2.1"); got != Human {
		t.Errorf("a marker after %d bytes classified %s; want it unread", MaxScan, got)
	}
	if got := Default().UserAgent(padding[:MaxScan-len("googlebot")] + "Googlebot"); got != Crawler {
		t.Errorf("a marker ending at byte %d classified %s, want crawler", MaxScan, got)
	}
}

func TestEmbeddedListParses(t *testing.T) {
	t.Parallel()
	c, err := Parse(agentsFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() < 50 || c.Len() > MaxEntries {
		t.Fatalf("agents.txt holds %d entries; want between 50 and %d", c.Len(), MaxEntries)
	}
}

// Parse refuses what would make the list unbounded, unsourced or unmatchable, naming the line.
func TestParseRefusals(t *testing.T) {
	t.Parallel()
	const src = "[crawler] X: https://example.com/bots\n"
	many := src
	for i := range MaxEntries + 1 {
		many += "entry" + strings.Repeat("x", i%40) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "\n"
	}
	for _, tt := range []struct{ name, data, want string }{
		{"no source", "[crawler] X\nfoobot\n", "line 1: group line"},
		{"unknown class", "[robot] X: https://example.com\nfoobot\n", "class \"robot\""},
		{"entry before a group", "foobot\n", "line 1: entry \"foobot\" before"},
		{"upper case", src + "FooBot\n", "line 2: entry \"FooBot\": want lower-case"},
		{"space", src + "foo bot\n", "want lower-case printable ASCII without spaces"},
		{"too short", src + "ab\n", "want 3 to 64 bytes"},
		{"too long", src + strings.Repeat("a", 65) + "\n", "want 3 to 64 bytes"},
		{"twice", src + "foobot\nfoobot\n", "line 3: entry \"foobot\" listed twice"},
		{"too many", many, "more than 400 entries"},
	} {
		_, err := Parse([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestRequestAllocatesNothing(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/code", nil)
	r.Header.Set("User-Agent", userAgents[0].ua)
	c := Default()
	if n := testing.AllocsPerRun(100, func() { _ = c.Request(r) }); n != 0 {
		t.Fatalf("Request allocates %v times a call, want 0", n)
	}
}

// BenchmarkUserAgents classifies every User-Agent of the test table once an iteration;
// ns/op divided by the table's length is the cost of one.
//
// Run: go test -run '^$' -bench . -benchmem ./internal/bots/
func BenchmarkUserAgents(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		for i := range userAgents {
			_ = c.UserAgent(userAgents[i].ua)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(userAgents)), "ns/agent")
}

// BenchmarkDesktopChrome is the commonest visit: a person on desktop Chrome, whose whole
// User-Agent is read.
func BenchmarkDesktopChrome(b *testing.B) {
	c := Default()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.UserAgent(userAgents[0].ua)
	}
}

// reference classifies ua by the definition, slowly: at each position the longest entry there
// decides; a human entry is skipped whole; the highest class found wins.
func reference(c *Classifier, ua string) Class {
	if ua == "" {
		return NoAgent
	}
	var all []entry
	for _, list := range c.byStart {
		all = append(all, list...)
	}
	s := strings.ToLower(ua[:min(len(ua), MaxScan)])
	best := Human
	for p := 0; p < len(s); p++ {
		var longest *entry
		for i := range all {
			if strings.HasPrefix(s[p:], all[i].text) && (longest == nil || len(all[i].text) > len(longest.text)) {
				longest = &all[i]
			}
		}
		switch {
		case longest == nil:
		case longest.class == Human:
			p += len(longest.text) - 1
		case longest.class > best:
			best = longest.class
		}
	}
	return best
}

// The matcher agrees with the definition on the table and on User-Agents spliced from it and
// from the list's own entries, in mixed case, so that its shortcuts (the bitmap, the buckets,
// the skip past a human entry) change no answer.
func TestMatcherAgreesWithTheDefinition(t *testing.T) {
	t.Parallel()
	c := Default()
	var pieces []string
	for _, u := range userAgents {
		pieces = append(pieces, u.ua)
	}
	for _, list := range c.byStart {
		for _, e := range list {
			pieces = append(pieces, e.text, strings.ToUpper(e.text), e.text[:len(e.text)-1])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // seeded so that a failure is reproducible; no secret
	next := rng.IntN
	for range 20000 {
		var b strings.Builder
		for range 1 + next(4) {
			if next(4) == 0 { // a human entry right before whatever comes next
				b.WriteString("CuBot")
			}
			p := pieces[next(len(pieces))]
			b.WriteString(p[next(len(p)+1):]) // a suffix, so entries start anywhere
			if next(2) == 0 {
				b.WriteByte(" ;/()_"[next(6)])
			}
		}
		ua := b.String()
		if got, want := c.UserAgent(ua), reference(c, ua); got != want {
			t.Fatalf("%q classified %s, the definition says %s", ua, got, want)
		}
	}
}
