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

// Class is what made a visit: a person, or a kind of program. The bot classes are ordered by
// how specific they are, so that a User-Agent naming several (a preview fetcher built on an
// HTTP library) takes the most specific.
type Class uint8

const (
	// Human is every visit nothing marks as a program's.
	Human Class = iota
	// Tool is an HTTP library or a command-line client: curl, Go's net/http, python-requests.
	Tool
	// Crawler is a search engine's, an AI company's or an SEO tool's robot, or any client that
	// names itself a bot, crawler or spider or gives a "+http" contact URL.
	Crawler
	// Headless is a headless browser that says so.
	Headless
	// Preview is a link-preview fetcher: Slack, Discord, X, Facebook, LinkedIn, WhatsApp,
	// Telegram, iMessage, Mastodon, Teams.
	Preview
	// Prefetch is a browser fetching a link ahead of a click that may never come
	// (Sec-Purpose: prefetch, or Purpose: prefetch).
	Prefetch
	// NoAgent is a request without a User-Agent: every browser sends one.
	NoAgent
)

var classNames = [...]string{Human: "human", Tool: "tool", Crawler: "crawler", Headless: "headless",
	Preview: "preview", Prefetch: "prefetch", NoAgent: "no-agent"}

// String is the class's name, as agents.txt spells the classes it lists.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Bot reports whether the class is a program's: every class but Human.
func (c Class) Bot() bool { return c != Human }

// parseClass reads a class name of agents.txt; only the User-Agent classes are listed there.
func parseClass(s string) (Class, bool) {
	for _, c := range []Class{Human, Tool, Crawler, Headless, Preview} {
		if classNames[c] == s {
			return c, true
		}
	}
	return 0, false
}
