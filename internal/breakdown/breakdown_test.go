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

package breakdown

import "testing"

// userAgents are real User-Agent strings, as the browsers named send them, with the device
// class each must get.
var userAgents = []struct {
	name, ua string
	bot      bool
	want     string
}{
	{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false, Desktop},
	{"Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", false, Desktop},
	{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", false, Desktop},
	{"Chrome on ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false, Desktop},
	{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", false, Desktop},
	{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", false, Mobile},
	{"Chrome on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", false, Mobile},
	{"Samsung Internet", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", false, Mobile},
	{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", false, Mobile},
	{"Instagram app on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 305.0.0.20.108 (iPhone14,2; iOS 17_0; en_US; en; scale=3.00; 1170x2532; 529083166)", false, Mobile},
	{"Opera Mini", "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54", false, Mobile},
	{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", false, Tablet},
	{"Chrome on an Android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", false, Tablet},
	{"Silk on a Kindle Fire", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.2.1 like Chrome/131.0.6778.85 Safari/537.36", false, Tablet},
	{"Firefox on an Android tablet", "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", false, Tablet},
	{"Slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true, Bot},
	{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true, Bot},
	{"an iPhone prefetching", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", true, Bot},
	{"no User-Agent", "", true, Bot},
}

func TestDeviceClass(t *testing.T) {
	for _, tc := range userAgents {
		if got := DeviceClass(tc.ua, tc.bot); got != tc.want {
			t.Errorf("%s: DeviceClass = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReferrerDomain(t *testing.T) {
	for _, tc := range []struct{ referer, want string }{
		{"", Direct},
		{"https://www.google.com/", "google.com"},
		{"https://News.Ycombinator.com/item?id=1", "news.ycombinator.com"},
		{"https://t.co/abc", "t.co"},
		{"http://example.org:8080/path", "example.org"},
		{"https://example.org./", "example.org"},
		{"android-app://com.google.android.gm/", "com.google.android.gm"},
		{"https://[2001:db8::1]/", "2001:db8::1"},
		{"https://user:pw@Example.COM:443/x", "example.com"},
		{"https://example.com?utm_source=x", "example.com"},
		{"https://www.example.com#top", "example.com"},
		{"https://[::1", Other},
		{"https:///path", Other},
		{"not a url", Other},
		{"/relative/only", Other},
		{"http://%zz/", Other},
	} {
		if got := ReferrerDomain(tc.referer); got != tc.want {
			t.Errorf("ReferrerDomain(%q) = %q, want %q", tc.referer, got, tc.want)
		}
	}
}
